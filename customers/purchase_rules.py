"""What a purchase does to the stored history: each rule once, in Python.

Every path that stores purchases decides with these: ``services.record_purchase``
one purchase at a time (typed, posted to the API, the row-by-row import) and
the set-wise import of a whole file (customers/bulk_purchases.py), which looks
up what is stored in batches, decides each row here in file order and then
writes what was decided. There is no copy of these rules in SQL to keep in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

CENT = Decimal("0.01")


class Fate(StrEnum):
    NEW = "new"  # to be stored
    UNCHANGED = "unchanged"  # stored already: the same purchase again
    CONFLICT = "conflict"  # its reference is another purchase's


def purchase_fate(
    *,
    customer: Any,
    amount: Decimal,
    reference: str,
    holder: tuple[Any, Decimal] | None,
    twin_stored: bool = False,
) -> Fate:
    """Whether a purchase is new, one stored already, or a clash.

    With a reference (an order number, unique), ``holder`` is the stored
    purchase that has it, as (customer, amount), if any: the same customer's
    purchase of the same amount is that purchase again; any other is a
    conflict. Without a reference a purchase is new unless ``twin_stored``: the
    same customer has a purchase at the same moment of the same amount. Only the
    imports ask that (a file imported twice adds nothing); a purchase typed in
    or posted is always new, two coffees at once being two purchases.

    ``customer`` is anything that compares equal for the same customer (an id;
    the set-wise import's stand-in for a customer it has yet to create).
    """
    if reference:
        if holder is None:
            return Fate.NEW
        held_by, held_amount = holder
        if held_by == customer and held_amount == amount:
            return Fate.UNCHANGED
        return Fate.CONFLICT
    return Fate.UNCHANGED if twin_stored else Fate.NEW


def conflict_message(reference: str, amount: Decimal, customer: object) -> str:
    """Why a purchase was refused: its reference belongs to `customer`'s."""
    return (
        f"Reference {reference} is already used by another purchase "
        f"({amount.quantize(CENT)} for {customer})."
    )


@dataclass(slots=True)
class RunningFigures:
    """A customer's purchase figures, kept as purchases are stored.

    record_purchase adds one purchase to the locked customer's; the set-wise
    import adds each customer's new rows, then writes them all at once.
    Refunds lower ``total_spent`` (refund_purchase); recalculate_figures works
    them out afresh from the history.
    """

    FIELDS: ClassVar[tuple[str, ...]] = (
        "orders_count",
        "total_spent",
        "first_purchase_at",
        "last_purchase_at",
    )

    orders_count: int = 0
    total_spent: Decimal = Decimal("0")
    first_purchase_at: datetime | None = None
    last_purchase_at: datetime | None = None

    @classmethod
    def of(cls, customer) -> RunningFigures:
        return cls(*(getattr(customer, name) for name in cls.FIELDS))

    def add(self, amounts: Sequence[Decimal], moments: Sequence[datetime]) -> None:
        """Purchases stored (their amounts, and the moments they were made at):
        counted, added, and the first and last moved if they are earlier or
        later."""
        if not amounts:
            return
        self.orders_count += len(amounts)
        self.total_spent += sum(amounts, Decimal("0"))
        first, last = min(moments), max(moments)
        if self.first_purchase_at is None or first < self.first_purchase_at:
            self.first_purchase_at = first
        if self.last_purchase_at is None or last > self.last_purchase_at:
            self.last_purchase_at = last

    def apply_to(self, customer) -> list[str]:
        """Set them on the customer; the fields to save."""
        for name in self.FIELDS:
            setattr(customer, name, getattr(self, name))
        return list(self.FIELDS)
