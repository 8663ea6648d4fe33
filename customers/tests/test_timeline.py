from decimal import Decimal

from django.utils import timezone

from customers.timeline import NAMES, _entry


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
    assert entry.item.refundable_amount == Decimal("626.07")
    assert entry.by == "sam"
