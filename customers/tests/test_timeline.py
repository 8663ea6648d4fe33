from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Feedback, Interaction, Purchase
from customers.timeline import NAMES, Timeline, _entry

from .factories import CustomerFactory


def test_timeline_rows_round_money_whatever_type_the_database_returns():
    # SQLite returns a UNION's decimal columns as floats or unrounded decimals.
    row = dict.fromkeys(NAMES)
    row.update(
        t_source="purchase",
        t_pk=7,
        t_occurred_at=timezone.now(),
        t_by="sam",
        t_amount=1017.57000000000,
        t_refunded_amount=Decimal("391.5"),
        t_currency="EUR",
    )
    entry = _entry(tuple(row[name] for name in NAMES))
    assert entry.item.amount == Decimal("1017.57")
    assert str(entry.item.amount) == "1017.57"
    assert str(entry.item.refunded_amount) == "391.50"
    assert entry.item.net_amount == Decimal("626.07")
    assert entry.by == "sam"


@pytest.mark.django_db
def test_later_pages_are_the_same_entries_as_one_long_page(django_user_model):
    """Page 2 onwards sorts keys first; the entries and their order must match."""
    user = django_user_model.objects.create(username="sam")
    customer = CustomerFactory()
    other = CustomerFactory()
    now = timezone.now()
    same_instant = now - timedelta(days=1)
    for i in range(12):
        # Every third moment is shared by all three kinds (ties on the instant).
        at = same_instant if i % 3 == 0 else now - timedelta(hours=i + 1)
        Interaction.objects.create(
            customer=customer, subject=f"Call {i}", occurred_at=at, by=user
        )
        Purchase.objects.create(
            customer=customer, amount=Decimal(i), occurred_at=at, reference=f"R{i}"
        )
        Feedback.objects.create(customer=customer, kind="csat", score=4, occurred_at=at)
        Interaction.objects.create(customer=other, subject="Not theirs", occurred_at=at)
    timeline = Timeline(customer)
    assert timeline.count() == 36

    def summary(entries):
        return [(e.kind, e.item.pk, e.occurred_at, e.by, str(e.item)) for e in entries]

    whole = summary(timeline[0:36])
    paged = []
    for start in range(0, 40, 7):
        paged += summary(timeline[start : start + 7])
    assert paged == whole
    assert [kind for kind, *_ in whole].count("interaction") == 12
    deep = timeline[29:31]
    assert [(e.kind, e.item.pk) for e in deep] == [row[:2] for row in whole[29:31]]
    assert timeline[40:50] == []
