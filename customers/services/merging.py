"""Merging a duplicate into a customer: history, consent and old links follow."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..locking import lock_customers
from ..models import (
    ConsentChange,
    Customer,
    ErasureRecord,
    Feedback,
    FollowUp,
    Interaction,
    MergedCustomer,
    Purchase,
)
from ..signals import customers_merged
from .profile import CustomerErased
from .purchases import recalculate_figures


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
