"""Every change of state to customers and their history.

Each function runs in one transaction, locks the customer whose running figures it
changes, and writes the history row with the acting user. Other apps react through
``customers.signals``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from .locking import lock_customer, lock_customers
from .models import (
    FUTURE_TOLERANCE,
    ConsentChange,
    Customer,
    ErasureRecord,
    Feedback,
    FollowUp,
    Interaction,
    MergedCustomer,
    Purchase,
    SavedSegment,
    Tag,
)
from .purchase_rules import Fate, RunningFigures, conflict_message, purchase_fate
from .signals import customers_merged, purchase_recorded, purchase_refunded

# What the services set: the profile, and when they became a customer (imports).
PROFILE_FIELDS = (*Customer.PROFILE_FIELDS, "created_at")
CONSENT_FIELDS = {
    field: field.removesuffix("_opt_in") for field in Customer.CONSENT_FIELDS
}


class CustomerErased(ValidationError):
    """The customer's personal data was erased: nothing more is stored on them."""


ERASED_REFUSAL = (
    "This customer's personal data was erased, so nothing more can be stored "
    "about them. If they come back, add them as a new customer."
)


def _lock_unerased(customer: Customer | int) -> Customer:
    """The customer, locked (customers.locking), refused if they were erased.

    Every service that stores something about a customer takes its lock here:
    an erasure commits under the same lock, so none can slip in after it.
    """
    locked = lock_customer(customer)
    if locked.is_erased:
        raise CustomerErased(ERASED_REFUSAL)
    return locked


class FollowUpAlreadyDone(Exception):
    """The follow-up was completed already (perhaps by someone else just now)."""


class PurchaseReferenceConflict(ValidationError):
    """The reference belongs to a purchase of another customer or amount."""


def _set_consent(
    customer: Customer, channel: str, opted_in: bool, *, source: str, by
) -> None:
    setattr(customer, f"{channel}_opt_in", opted_in)
    setattr(customer, f"{channel}_opt_in_at", timezone.now())
    setattr(customer, f"{channel}_opt_in_source", source[:100])
    ConsentChange.objects.create(
        customer=customer, channel=channel, opted_in=opted_in, source=source, by=by
    )


@transaction.atomic
def create_customer(
    *,
    by=None,
    tags: Iterable[Tag] = (),
    consent_source: str = "staff",
    **fields: Any,
) -> Customer:
    """Store a new customer; raises ValidationError for bad or duplicate data."""
    unknown = set(fields) - set(PROFILE_FIELDS) - set(CONSENT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown customer fields: {sorted(unknown)}")
    customer = Customer(**{k: v for k, v in fields.items() if k in PROFILE_FIELDS})
    customer.full_clean()
    customer.save()
    for field, channel in CONSENT_FIELDS.items():
        if fields.get(field):
            _set_consent(customer, channel, True, source=consent_source, by=by)
    if customer.email_opt_in or customer.sms_opt_in:
        customer.save()
    if tags:
        customer.tags.set(tags)
    return customer


@transaction.atomic
def update_customer(
    *,
    customer: Customer,
    by=None,
    tags: Iterable[Tag] | None = None,
    consent_source: str = "staff",
    **fields: Any,
) -> Customer:
    """Change a customer's profile and consent; consent changes are recorded."""
    unknown = set(fields) - set(PROFILE_FIELDS) - set(CONSENT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown customer fields: {sorted(unknown)}")
    locked = _lock_unerased(customer)
    for name, value in fields.items():
        if name in PROFILE_FIELDS:
            setattr(locked, name, value)
    locked.full_clean()
    for field, channel in CONSENT_FIELDS.items():
        if field in fields and bool(fields[field]) != getattr(locked, field):
            _set_consent(
                locked, channel, bool(fields[field]), source=consent_source, by=by
            )
    locked.save()
    if tags is not None:
        locked.tags.set(tags)
    return locked


@transaction.atomic
def log_interaction(
    *,
    customer: Customer,
    kind: str,
    direction: str = Interaction.Direction.OUTBOUND,
    subject: str = "",
    body: str = "",
    occurred_at: datetime | None = None,
    by=None,
    follow_up_on: date | None = None,
    follow_up_assignee=None,
    follow_up_note: str = "",
    automated: bool = False,
) -> Interaction:
    """Add an interaction to the timeline, optionally asking for a follow-up.

    ``automated`` marks a message a rule or campaign sent: it moves the
    customer's last automated message, never their last (personal) contact.
    """
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError(
            {"occurred_at": "An interaction cannot be in the future."}
        )
    locked = _lock_unerased(customer)
    interaction = Interaction(
        customer=locked,
        kind=kind,
        direction=direction,
        subject=subject,
        body=body,
        occurred_at=occurred_at,
        by=by,
        automated=automated,
    )
    interaction.full_clean(exclude=["customer", "by"])
    interaction.save()
    figure = interaction.customer_figure
    latest = getattr(locked, figure) if figure else None
    if figure and (latest is None or occurred_at > latest):
        setattr(locked, figure, occurred_at)
        locked.save(update_fields=[figure, "updated_at"])
        setattr(customer, figure, occurred_at)
    if follow_up_on is not None:
        if (follow_up_assignee or by) is None:
            raise ValidationError(
                {"follow_up_assignee": "Choose who is to do the follow-up."}
            )
        FollowUp.objects.create(
            customer=locked,
            origin=interaction,
            due_on=follow_up_on,
            assignee=follow_up_assignee or by,
            note=follow_up_note,
        )
    return interaction


@transaction.atomic
def complete_follow_up(*, follow_up: FollowUp, by, **interaction: Any) -> Interaction:
    """Log the interaction that did the follow-up and mark it done."""
    lock_customer(follow_up.customer_id)  # the customer before its follow-up
    locked = FollowUp.objects.select_for_update(no_key=True).get(pk=follow_up.pk)
    if locked.completed_at is not None:
        raise FollowUpAlreadyDone(f"{locked} was completed already.")
    done = log_interaction(customer=locked.customer, by=by, **interaction)
    locked.completed_at = timezone.now()
    locked.completed_by = done
    locked.save(update_fields=["completed_at", "completed_by"])
    return done


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


@transaction.atomic
def record_feedback(
    *,
    customer: Customer,
    kind: str,
    score: int,
    comment: str = "",
    occurred_at: datetime | None = None,
    by=None,
) -> Feedback:
    """Store a satisfaction (CSAT 1–5) or recommendation (NPS 0–10) score."""
    feedback = Feedback(
        customer=_lock_unerased(customer),
        kind=kind,
        score=score,
        comment=comment,
        occurred_at=occurred_at or timezone.now(),
        by=by,
    )
    feedback.full_clean(exclude=["customer", "by"])
    if feedback.occurred_at > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"occurred_at": "Feedback cannot be in the future."})
    feedback.save()
    return feedback


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


def _has_a_say(customer: Customer, channel: str) -> bool:
    """Whether this record's consent for the channel counts in a merge.

    A record with an address for the channel, or with any recorded decision,
    speaks for the person; one that never had an address and was never asked
    (a walk-in known only by phone, for e-mail) has nothing to say either way.
    """
    address = customer.email if channel == "email" else customer.phone
    return bool(address or getattr(customer, f"{channel}_opt_in_at"))


def _merged_consent(kept: Customer, merged: Customer, channel: str) -> tuple:
    """The stricter consent of the two records: (opted in?, why, from which).

    Consent stays only if every record with a say opted in; an opt-out or a
    missing consent on either side wins, so no opt-out is lost to a merge.
    """
    speaking = [c for c in (kept, merged) if _has_a_say(c, channel)]
    refusing = [c for c in speaking if not getattr(c, f"{channel}_opt_in")]
    if not refusing:
        consenting = [c for c in speaking if getattr(c, f"{channel}_opt_in")]
        return bool(consenting), "", consenting[0] if consenting else kept
    refuser = refusing[0] if merged not in refusing else merged
    who = "this customer" if refuser is kept else f"customer #{merged.pk}"
    did = "opted out" if getattr(refuser, f"{channel}_opt_in_at") else "not opted in"
    return False, f"merge with #{merged.pk}: {who} had {did}", refuser


@transaction.atomic
def merge_customers(*, keep: Customer, merge: Customer, by=None) -> Customer:
    """Move the whole history of `merge` onto `keep`, then delete `merge`.

    Blank profile fields of `keep` are filled from `merge`. Consent is the
    stricter of the two for each channel, and a ConsentChange says why when an
    opt-in does not survive. The merged id is remembered (MergedCustomer), so
    links sent to it, such as unsubscribe links, reach the kept customer.
    """
    if keep.pk == merge.pk:
        raise ValidationError("A customer cannot be merged with itself.")
    locked = lock_customers([keep.pk, merge.pk])
    kept, merged = locked[keep.pk], locked[merge.pk]
    if ErasureRecord.objects.filter(customer_id__in=[kept.pk, merged.pk]).exists():
        raise CustomerErased(
            "An erased customer cannot be merged: their history is anonymous now."
        )

    for model in (Interaction, Purchase, Feedback, FollowUp, ConsentChange):
        model.objects.filter(customer=merged).update(customer=kept)
    kept.tags.add(*merged.tags.all())
    customers_merged.send(sender=Customer, kept=kept, merged=merged, by=by)
    # Before the delete, whose cascade would drop them: earlier merges into
    # `merged` now point at `kept`, so a chain is one lookup.
    MergedCustomer.objects.filter(kept=merged).update(kept=kept)
    MergedCustomer.objects.create(merged_id=merged.pk, kept=kept, by=by)

    filled = {
        name: getattr(merged, name)
        for name in Customer.PROFILE_FIELDS
        if not getattr(kept, name) and getattr(merged, name)
    }
    now = timezone.now()
    for channel in ("email", "sms"):
        opted_in, why, source = _merged_consent(kept, merged, channel)
        for suffix in ("opt_in", "opt_in_at", "opt_in_source"):
            name = f"{channel}_{suffix}"
            filled[name] = getattr(source, name)
        if not why:
            continue
        if getattr(kept, f"{channel}_opt_in"):
            # The kept record's opt-in ends here, for the reason given.
            filled[f"{channel}_opt_in_at"] = now
            filled[f"{channel}_opt_in_source"] = why[:100]
        if getattr(kept, f"{channel}_opt_in") or getattr(merged, f"{channel}_opt_in"):
            # An opt-in did not survive: the history says so, after the rows
            # moved from the merged record (its own opt-in among them).
            ConsentChange.objects.create(
                customer=kept,
                channel=channel,
                opted_in=False,
                source=why,
                by=by,
                at=now,
            )
    if merged.created_at < kept.created_at:
        filled["created_at"] = merged.created_at
    merged_name = str(merged)
    # Delete first: email and reference are unique and may move to the kept record.
    merged.delete()
    for name, value in filled.items():
        setattr(kept, name, value)
    kept.save()
    recalculate_figures([kept.pk])
    Interaction.objects.create(
        customer=kept,
        kind=Interaction.Kind.NOTE,
        direction=Interaction.Direction.INTERNAL,
        subject=f"Merged {merged_name} into this customer",
        by=by,
    )
    kept.refresh_from_db()
    return kept


@transaction.atomic
def create_tag(*, name: str) -> Tag:
    tag = Tag(name=name.strip())
    tag.full_clean()
    tag.save()
    return tag


@transaction.atomic
def rename_tag(*, tag: Tag, name: str) -> Tag:
    tag.name = name.strip()
    tag.full_clean()
    tag.save(update_fields=["name"])
    return tag


@transaction.atomic
def delete_tag(*, tag: Tag) -> None:
    """Remove the tag from every customer and delete it."""
    tag.delete()


@transaction.atomic
def save_segment(*, name: str, params: dict, by) -> SavedSegment:
    """Save the list's filters under a name; they are re-applied on each use."""
    segment = SavedSegment(name=name.strip(), params=params, created_by=by)
    segment.full_clean()
    segment.save()
    return segment


@transaction.atomic
def delete_segment(*, segment: SavedSegment) -> None:
    segment.delete()
