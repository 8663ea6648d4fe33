"""Joining the program, and the bonuses that come with membership."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from customers.birthdays import birthday_on
from customers.locking import lock_customer, lock_customer_ids
from customers.models import Customer

from ..models import Membership, PointsEntry, Program
from .errors import ProgramInactive
from .ledger import credit, credit_many, lock_memberships_by_id

BONUS_BATCH = 1000


def welcome_key(membership_id: int) -> str:
    return f"welcome:{membership_id}"


def birthday_key(membership_id: int, year: int) -> str:
    return f"birthday:{membership_id}:{year}"


@transaction.atomic
def enroll(customer: Customer, *, by=None) -> Membership:
    """Make the customer a member, with the welcome bonus; a member stays as is."""
    program = Program.current()
    if not program.is_active:
        raise ProgramInactive("The loyalty program is switched off: nobody can join.")
    return enroll_unchecked(customer, program=program, by=by)


def enroll_unchecked(
    customer: Customer, *, program: Program, by=None, welcome_bonus: bool = True
) -> Membership:
    """Enrol whether or not the program runs (imports of an existing program)."""
    # The customer's lock makes "is a member?" and the insert one step.
    lock_customer(customer)
    existing = Membership.objects.filter(customer=customer).first()
    if existing is not None:
        return existing
    membership = Membership.objects.create(customer=customer, enrolled_by=by)
    if welcome_bonus and program.welcome_bonus:
        today = timezone.localdate()
        credit(
            membership,
            kind=PointsEntry.Kind.BONUS,
            points=program.welcome_bonus,
            expires_on=program.expiry_for(today),
            key=welcome_key(membership.pk),
            reason="Welcome bonus",
            by=by,
        )
    return membership


def enroll_customers(
    customer_ids: Iterable[int], *, program: Program, by=None
) -> list[Membership]:
    """Enrol those of the customers who are not members yet, set-wise.

    Runs in the caller's transaction; returns the new memberships.
    """
    ids = lock_customer_ids(customer_ids)
    members = set(
        Membership.objects.filter(customer_id__in=ids).values_list(
            "customer_id", flat=True
        )
    )
    now = timezone.now()
    new = Membership.objects.bulk_create(
        [
            Membership(customer_id=pk, enrolled_at=now, enrolled_by=by)
            for pk in ids
            if pk not in members
        ],
        batch_size=2000,
    )
    if program.welcome_bonus and new:
        today = timezone.localdate()
        credit_many(
            [
                PointsEntry(
                    membership_id=membership.pk,
                    customer_id=membership.customer_id,
                    kind=PointsEntry.Kind.BONUS,
                    points=program.welcome_bonus,
                    available_on=today,
                    expires_on=program.expiry_for(today),
                    occurred_at=now,
                    key=welcome_key(membership.pk),
                    reason="Welcome bonus",
                    by=by,
                )
                for membership in new
            ]
        )
    return new


def grant_birthday_bonuses(today: date | None = None) -> int:
    """Give today's birthday members their bonus, once a year; returns how many."""
    program = Program.current()
    if not program.is_active or not program.birthday_bonus:
        return 0
    today = today or timezone.localdate()
    already = PointsEntry.objects.filter(
        membership=OuterRef("pk"),
        kind=PointsEntry.Kind.BONUS,
        key__startswith="birthday:",
        key__endswith=f":{today.year}",
    )
    due = Membership.objects.filter(birthday_on(today, "customer__birthday")).filter(
        ~Exists(already)
    )
    candidates = list(due.order_by("pk").values_list("pk", flat=True))
    occurred_at = timezone.make_aware(datetime.combine(today, time.min))
    granted = 0
    for start in range(0, len(candidates), BONUS_BATCH):
        with transaction.atomic():
            locked = list(
                lock_memberships_by_id(candidates[start : start + BONUS_BATCH])
            )
            # Checked again under the locks: a concurrent run may have given it.
            still_due = due.filter(pk__in=locked).values_list("pk", "customer_id")
            granted += len(
                credit_many(
                    [
                        PointsEntry(
                            membership_id=pk,
                            customer_id=customer_id,
                            kind=PointsEntry.Kind.BONUS,
                            points=program.birthday_bonus,
                            available_on=today,
                            expires_on=program.expiry_for(today),
                            occurred_at=occurred_at,
                            key=birthday_key(pk, today.year),
                            reason="Birthday bonus",
                        )
                        for pk, customer_id in still_due
                    ]
                )
            )
    return granted
