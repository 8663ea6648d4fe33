"""Members and their points: Membership and the PointsEntry ledger.

The ledger is append-only: an entry's kind, points, dates and links never change
and entries are never deleted (on PostgreSQL a trigger refuses both; migration
0002). Only what is left of a lot (``remaining``, which only goes down), the free
text (``reason``, wiped on erasure) and the owner (moved on a customers' merge)
may change. Every change to a membership's entries is made under a lock on the
membership row, so lots need no locks of their own.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Purchase

from .program import Tier


class MembershipQuerySet(models.QuerySet):
    def in_tier(self, tier: Tier | None) -> MembershipQuerySet:
        """Members of the tier (None: members below every tier)."""
        return self.filter(tier=tier)

    def with_ledger_totals(self) -> MembershipQuerySet:
        """Annotate `ledger_points` (sum of entries) and `lots_remaining`."""
        return self.annotate(
            ledger_points=models.functions.Coalesce(
                models.Subquery(
                    PointsEntry.objects.filter(membership=models.OuterRef("pk"))
                    .order_by()
                    .values("membership")
                    .annotate(total=Sum("points"))
                    .values("total")
                ),
                0,
            ),
            lots_remaining=models.functions.Coalesce(
                models.Subquery(
                    PointsEntry.objects.filter(
                        membership=models.OuterRef("pk"), remaining__gt=0
                    )
                    .order_by()
                    .values("membership")
                    .annotate(total=Sum("remaining"))
                    .values("total")
                ),
                0,
            ),
        )

    def out_of_balance(self) -> MembershipQuerySet:
        """Members whose balance is not the sum of their ledger and of their lots."""
        return self.with_ledger_totals().exclude(
            balance=models.F("ledger_points"), ledger_points=models.F("lots_remaining")
        )


class Membership(models.Model):
    customer = models.OneToOneField(
        Customer, on_delete=models.PROTECT, related_name="membership"
    )
    # A cache of the ledger: the sum of the entries' points, kept by the services.
    balance = models.IntegerField(default=0, editable=False)
    tier = models.ForeignKey(
        Tier,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="memberships",
    )
    tier_since = models.DateTimeField(null=True, blank=True, editable=False)
    enrolled_at = models.DateTimeField(default=timezone.now)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["-enrolled_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0),
                name="membership_balance_gte_0",
                violation_error_message="A balance cannot go below 0.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer} ({self.balance} points)"

    def get_absolute_url(self) -> str:
        return reverse("loyalty:member", args=[self.customer_id])

    def spendable_points(self, today: date | None = None) -> int:
        """Points that may be spent today: not pending, not past their expiry."""
        return (
            PointsEntry.objects.filter(membership=self)
            .spendable(today)
            .aggregate(total=Sum("remaining"))["total"]
            or 0
        )


class PointsEntryQuerySet(models.QuerySet):
    def lots(self) -> PointsEntryQuerySet:
        """Credits: each is a lot of points that later debits take from."""
        return self.filter(points__gt=0)

    def open(self) -> PointsEntryQuerySet:
        """Lots with something left."""
        return self.filter(remaining__gt=0)

    def spendable(self, today: date | None = None) -> PointsEntryQuerySet:
        """Lots with points left that are neither pending nor past expiry today."""
        today = today or timezone.localdate()
        return self.open().filter(
            Q(available_on__isnull=True) | Q(available_on__lte=today),
            Q(expires_on__isnull=True) | Q(expires_on__gt=today),
        )

    def pending(self, today: date | None = None) -> PointsEntryQuerySet:
        """Lots with points left that cannot be spent yet (return window)."""
        today = today or timezone.localdate()
        return self.open().filter(available_on__gt=today)

    def due_to_expire(self, today: date | None = None) -> PointsEntryQuerySet:
        """Lots with points left whose expiry day has come (expiry's work)."""
        today = today or timezone.localdate()
        return self.open().filter(expires_on__lte=today)

    def expiring_within(
        self, days: int, today: date | None = None
    ) -> PointsEntryQuerySet:
        """Lots with points left that expire in the next `days` days (not today)."""
        today = today or timezone.localdate()
        return self.open().filter(
            expires_on__gt=today, expires_on__lte=today + timedelta(days=days)
        )

    def in_period(self, start, end) -> PointsEntryQuerySet:
        """Entries that occurred from `start` (inclusive) to `end` (exclusive)."""
        return self.filter(occurred_at__gte=start, occurred_at__lt=end)

    def soonest_expiring_first(self) -> PointsEntryQuerySet:
        """The order debits take points from lots: soonest expiry, then oldest."""
        return self.order_by(
            models.F("expires_on").asc(nulls_last=True), "occurred_at", "pk"
        )


class PointsEntry(models.Model):
    class Kind(models.TextChoices):
        EARN = "earn", "Earned"
        BONUS = "bonus", "Bonus"
        REDEEM = "redeem", "Redeemed"
        EXPIRE = "expire", "Expired"
        ADJUST = "adjust", "Adjusted"
        REVERSAL = "reversal", "Reversed"

    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="entries"
    )
    # The membership's customer, for the customer's timeline and set-wise reads.
    # Foreign keys without an index of their own are covered by a composite or
    # unique index below (or, for `by`, only read when a user is deleted): each
    # index is work on every insert, and the ledger is mostly inserts.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="points_entries",
        db_index=False,
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    points = models.IntegerField(help_text="Signed: credits > 0, debits < 0.")
    # Lots (credits) only: what is left of them; debits take from it.
    remaining = models.IntegerField(default=0)
    available_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(
        null=True, blank=True, help_text="Expires at the start of this day."
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    purchase = models.ForeignKey(
        Purchase,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_entries",
    )
    # Earn: the purchase's amount (net of refunds then) the points came from.
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Reversal: points the refund should have taken back but could not (spent).
    shortfall = models.PositiveIntegerField(default=0)
    # Expire: the lot it expired.
    lot = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    redemption = models.ForeignKey(
        "Redemption",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,
    )
    # Idempotency for bonuses and opening balances ("welcome:<membership>",
    # "birthday:<membership>:<year>", "opening:<customer>:<earned>:<expires>").
    key = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = PointsEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name_plural = "points entries"
        constraints = [
            models.CheckConstraint(
                condition=~Q(points=0) | Q(kind="reversal", shortfall__gt=0),
                name="pointsentry_points_not_0",
            ),
            models.CheckConstraint(
                condition=(
                    Q(points__gt=0, remaining__gte=0, remaining__lte=models.F("points"))
                    | Q(points__lte=0, remaining=0)
                ),
                name="pointsentry_remaining_within_lot",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["earn", "bonus"], points__gt=0)
                    | Q(kind__in=["redeem", "expire"], points__lt=0)
                    | Q(kind__in=["adjust", "reversal"])
                ),
                name="pointsentry_sign_fits_kind",
            ),
            models.CheckConstraint(
                condition=~Q(kind="earn") | Q(purchase__isnull=False),
                name="pointsentry_earn_has_purchase",
            ),
            models.UniqueConstraint(
                fields=["purchase"],
                condition=Q(kind="earn"),
                name="pointsentry_one_earn_per_purchase",
            ),
            models.UniqueConstraint(
                fields=["lot"],
                condition=Q(kind="expire"),
                name="pointsentry_one_expiry_per_lot",
            ),
            models.UniqueConstraint(
                fields=["redemption", "kind"],
                condition=Q(redemption__isnull=False),
                name="pointsentry_one_of_each_per_redemption",
            ),
            models.UniqueConstraint(
                fields=["key"],
                condition=~Q(key=""),
                name="pointsentry_key_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["customer", "-occurred_at"], name="pointsentry_tl_idx"
            ),
            models.Index(
                fields=["membership", "expires_on"],
                condition=Q(remaining__gt=0),
                name="pointsentry_open_lots_idx",
            ),
            models.Index(
                fields=["expires_on"],
                condition=Q(remaining__gt=0),
                name="pointsentry_expiry_idx",
            ),
            models.Index(fields=["occurred_at"], name="pointsentry_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.points:+d}"

    def delete(self, *args, **kwargs):
        raise TypeError("Points entries are never deleted: add a correcting entry.")

    @property
    def is_lot(self) -> bool:
        return self.points > 0
