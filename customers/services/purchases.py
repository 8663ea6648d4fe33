"""Purchases and refunds, and the running figures they move."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..locking import lock_customer
from ..models import (
    FUTURE_TOLERANCE,
    Customer,
    Interaction,
    Purchase,
)
from ..purchase_rules import Fate, RunningFigures, conflict_message, purchase_fate
from ..signals import purchase_recorded, purchase_refunded
from .profile import PurchaseReferenceConflict, _lock_unerased


def _to_amount(value: Any, field: str = "amount") -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: "Enter an amount such as 12.50."}) from None
    if not amount.is_finite():
        raise ValidationError({field: "Enter an amount such as 12.50."})
    if amount < 0:
        raise ValidationError({field: "An amount cannot be negative."})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({field: "Use at most two decimal places."})
    return amount


@transaction.atomic
def record_purchase(
    *,
    customer: Customer,
    amount: Decimal | str,
    occurred_at: datetime,
    reference: str | None = None,
    currency: str | None = None,
    channel: str | None = None,
    by=None,
    skip_repeats: bool = False,
) -> tuple[Purchase, bool]:
    """Store a purchase and update the customer's running figures.

    Returns (purchase, created). Idempotent on ``reference``: recording an
    order number again returns the stored purchase and changes nothing (and
    signals nothing); another customer's or amount's is a
    PurchaseReferenceConflict. ``skip_repeats`` (the imports) treats a purchase
    without reference like the customer's stored one at the same moment and of
    the same amount, if there is one. Both are decided under the customer's
    lock, so two requests racing with one order cannot both store it.
    """
    amount = _to_amount(amount)
    if timezone.is_naive(occurred_at):
        raise ValueError("occurred_at must be timezone-aware")
    if occurred_at > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError(
            {"occurred_at": "A purchase cannot be dated in the future."}
        )
    reference = (reference or "").strip()
    # Checked before it is looked up (a NUL would fail the query); full_clean
    # below leaves reference out, its unique rule being decided here.
    try:
        Purchase._meta.get_field("reference").clean(reference, None)
    except ValidationError as error:
        raise ValidationError({"reference": error.messages}) from None
    locked = _lock_unerased(customer)
    holder = Purchase.objects.filter(reference=reference).first() if reference else None
    twin = None
    if skip_repeats and not reference:
        twin = locked.purchases.filter(occurred_at=occurred_at, amount=amount).first()
    fate = _fate(locked, amount, reference, holder, twin)
    if fate is not Fate.NEW:
        return holder or twin, False
    purchase = Purchase(
        customer=locked,
        amount=amount,
        occurred_at=occurred_at,
        reference=reference,
        currency=(currency or settings.DEFAULT_CURRENCY).upper(),
        channel=channel or "",
        by=by,
    )
    purchase.full_clean(exclude=["customer", "by", "reference"])
    try:
        with transaction.atomic():
            purchase.save()
    except IntegrityError:
        # Another customer's transaction stored the same reference just now.
        holder = Purchase.objects.filter(reference=reference).first()
        if holder is None:
            raise
        _fate(locked, amount, reference, holder, None)
        return holder, False

    figures = RunningFigures.of(locked)
    figures.add([amount], [occurred_at])
    locked.save(update_fields=[*figures.apply_to(locked), "updated_at"])
    purchase_recorded.send(sender=Purchase, purchase=purchase, by=by)
    return purchase, True


def _fate(
    customer: Customer,
    amount: Decimal,
    reference: str,
    holder: Purchase | None,
    twin: Purchase | None,
) -> Fate:
    """purchase_rules.purchase_fate for record_purchase; raises on a conflict."""
    fate = purchase_fate(
        customer=customer.pk,
        amount=amount,
        reference=reference,
        holder=(holder.customer_id, holder.amount) if holder else None,
        twin_stored=twin is not None,
    )
    if fate is Fate.CONFLICT:
        raise PurchaseReferenceConflict(
            {"reference": conflict_message(reference, holder.amount, holder.customer)}
        )
    return fate


def _lock_purchase_and_customer(purchase_id: int) -> tuple[Customer, Purchase]:
    """The purchase's customer, then the purchase, in the lock order.

    A merge may move the purchase to another customer between reading whose it
    is and locking that customer (the merged one is then gone); it is read again
    until the two agree, and the customer's lock then keeps it where it is.
    """
    for _ in range(5):
        owner_id = Purchase.objects.values_list("customer_id", flat=True).get(
            pk=purchase_id
        )
        try:
            customer = lock_customer(owner_id)
        except Customer.DoesNotExist:
            continue
        locked = Purchase.objects.select_for_update(no_key=True).get(pk=purchase_id)
        if locked.customer_id == customer.pk:
            return customer, locked
    raise ValidationError("This purchase is being moved by a merge: try again.")


@transaction.atomic
def refund_purchase(
    *, purchase: Purchase, amount: Decimal | str | None = None, by=None
) -> Purchase:
    """Refund part or all of a purchase; the customer's total spent goes down."""
    customer, locked = _lock_purchase_and_customer(purchase.pk)
    refundable = locked.net_amount
    amount = refundable if amount is None else _to_amount(amount)
    if amount <= 0:
        raise ValidationError({"amount": "Refund more than 0."})
    if amount > refundable:
        raise ValidationError(
            {"amount": f"At most {refundable} of this purchase can still be refunded."}
        )
    locked.refunded_amount += amount
    locked.refunded_at = timezone.now()
    locked.save(update_fields=["refunded_amount", "refunded_at"])
    customer.total_spent -= amount
    customer.save(update_fields=["total_spent", "updated_at"])
    purchase_refunded.send(sender=Purchase, purchase=locked, amount=amount, by=by)
    return locked


def recalculate_figures(customer_ids: Iterable[int]) -> int:
    """Recompute running figures from the history, set-wise; returns rows updated.

    For paths that move history in bulk (merges, imports); the per-purchase path
    updates the figures incrementally instead.
    """
    purchases = Purchase.objects.filter(customer=OuterRef("pk")).values("customer")
    interactions = Interaction.objects.filter(customer=OuterRef("pk"))
    contacts = interactions.personal_contact().values("customer")
    automated = interactions.automated_messages().values("customer")

    def aggregate(queryset, expression):
        return Subquery(queryset.annotate(value=expression).values("value")[:1])

    return Customer.objects.filter(pk__in=list(customer_ids)).update(
        orders_count=Coalesce(aggregate(purchases, Count("pk")), 0),
        total_spent=Coalesce(
            aggregate(purchases, Sum("amount") - Sum("refunded_amount")), Decimal("0")
        ),
        first_purchase_at=aggregate(purchases, Min("occurred_at")),
        last_purchase_at=aggregate(purchases, Max("occurred_at")),
        last_contact_at=aggregate(contacts, Max("occurred_at")),
        last_automated_at=aggregate(automated, Max("occurred_at")),
        updated_at=timezone.now(),
    )
