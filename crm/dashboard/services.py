"""Handing a dashboard list to outreach: the list becomes a saved segment."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from customers import services as customer_services
from customers.models import Customer, SavedSegment, Tag


@transaction.atomic
def save_list_as_segment(*, name: str, customer_ids: list[int], by) -> SavedSegment:
    """Tag the list's customers with a new tag and save a segment of that tag.

    Campaigns take a saved segment as their audience, so the list can be sent
    to from the outreach pages. The tag keeps the list as it was today: later
    changes to the figures do not change who is in it.
    """
    stamp = timezone.localdate().isoformat()
    tag_name = f"{name} ({stamp})"[:50]
    tag = Tag.objects.filter(name__iexact=tag_name).first()
    if tag is None:
        tag = customer_services.create_tag(name=tag_name)
    links = Customer.tags.through
    existing = set(
        links.objects.filter(tag=tag, customer_id__in=customer_ids).values_list(
            "customer_id", flat=True
        )
    )
    links.objects.bulk_create(
        [
            links(customer_id=customer_id, tag_id=tag.pk)
            for customer_id in customer_ids
            if customer_id not in existing
        ],
        batch_size=5000,
    )
    return customer_services.save_segment(name=tag_name, params={"tag": tag.pk}, by=by)
