"""Read-only questions other apps ask of the loyalty program (set-wise)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Min, Sum
from django.utils import timezone

from customers.models import Customer, CustomerQuerySet


def customers_with_points_expiring(
    days: int, today: date | None = None
) -> CustomerQuerySet:
    """Customers with points that expire within `days` days (after today).

    Each is annotated with `points_expiring` (the points left in those lots)
    and `points_expire_on` (the earliest of their expiry days). One grouped
    query; chain further Customer filters onto it (e.g. ``.opted_in("email")``).
    """
    today = today or timezone.localdate()
    return (
        Customer.objects.filter(
            points_entries__remaining__gt=0,
            points_entries__expires_on__gt=today,
            points_entries__expires_on__lte=today + timedelta(days=days),
        )
        .annotate(
            points_expiring=Sum("points_entries__remaining"),
            points_expire_on=Min("points_entries__expires_on"),
        )
        .order_by("points_expire_on", "pk")
    )
