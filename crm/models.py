"""Data that belongs to the project rather than one app: API tokens and the
stored outcomes of idempotent API requests."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone


def hash_token_secret(secret: str) -> str:
    """The stored form of a token's secret: only its SHA-256 is ever kept."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> ApiTokenQuerySet:
        """Tokens not revoked."""
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A secret that lets a program use the REST API as the user who made it.

    The secret is shown once, when the token is made; the database holds only its
    hash and a short prefix, so a leaked backup cannot be used to call the API.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="The API acts as this user, with their current role.",
    )
    name = models.CharField(max_length=100, help_text="What the token is for.")
    prefix = models.CharField(max_length=12, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The response given to a POST carrying an Idempotency-Key.

    A retry with the same key and the same request gets this response again
    instead of creating a second time; the unique key per user makes two
    concurrent requests with one key wait for each other in the database.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="idempotency_records",
    )
    key = models.CharField(max_length=255)
    token = models.ForeignKey(
        ApiToken,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="idempotency_records",
        help_text="The token the request came with, if any.",
    )
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    # SHA-256 of the method, path and canonical JSON body.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    # Whose data the stored response shows, so erasing them wipes it too.
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="idempotency_key_unique_per_user"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class ClvFitQuerySet(models.QuerySet):
    def fitted(self) -> ClvFitQuerySet:
        """Fits that produced predictions (not those stopped by the data gate)."""
        return self.filter(status=ClvFit.Status.FITTED)

    def latest_fitted(self) -> ClvFit | None:
        """The newest fit with predictions, or None."""
        return self.fitted().order_by("-created_at", "-pk").first()


class ClvFit(models.Model):
    """One run of the lifetime value models: parameters, fit and outcome.

    The nightly task stores one; the dashboard reads the latest instead of
    fitting on every page view. Its per-customer predictions are ClvScore rows.
    """

    class Status(models.TextChoices):
        FITTED = "fitted", "Fitted"
        NOT_ENOUGH_DATA = "not_enough_data", "Not enough data"
        FAILED = "failed", "Failed"

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    as_of = models.DateField(help_text="Purchases up to the end of this day.")
    status = models.CharField(max_length=20, choices=Status.choices)
    reason = models.TextField(blank=True, help_text="Why there are no predictions.")
    time_unit = models.CharField(max_length=10, default="days")
    horizon_days = models.PositiveIntegerField(default=365)
    customers_used = models.PositiveIntegerField(default=0)
    repeat_customers = models.PositiveIntegerField(default=0)
    # BG/NBD (repeat occasions) and its log-likelihood.
    r = models.FloatField(null=True, blank=True)
    alpha = models.FloatField(null=True, blank=True)
    a = models.FloatField(null=True, blank=True)
    b = models.FloatField(null=True, blank=True)
    log_likelihood = models.FloatField(null=True, blank=True)
    # Gamma-Gamma (value of a repeat occasion) and its log-likelihood.
    p = models.FloatField(null=True, blank=True)
    q = models.FloatField(null=True, blank=True)
    gamma = models.FloatField(null=True, blank=True)
    spend_log_likelihood = models.FloatField(null=True, blank=True)
    # Over the horizon, for the whole base.
    expected_occasions = models.FloatField(null=True, blank=True)
    expected_revenue = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True
    )
    retention_point_value = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Extra revenue over the horizon if retention rose one point.",
    )
    fit_seconds = models.FloatField(null=True, blank=True)
    # Members against matched non-members as of the same day (computed with the
    # fit, nightly: see crm.metrics.comparisons.matched).
    loyalty_matched = models.JSONField(null=True, blank=True)

    objects = ClvFitQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "lifetime value fit"

    def __str__(self) -> str:
        return f"CLV fit as of {self.as_of} ({self.get_status_display()})"

    @property
    def params(self) -> dict:
        return {
            name: getattr(self, name)
            for name in ("r", "alpha", "a", "b", "p", "q", "gamma")
        }


class ClvScoreQuerySet(models.QuerySet):
    def of_latest_fit(self) -> ClvScoreQuerySet:
        """The predictions of the newest fit that has them."""
        return self.filter(fit=ClvFit.objects.latest_fitted())

    def falling(self, by: float = 0.05) -> ClvScoreQuerySet:
        """Probability still active at least ``by`` lower than 30 days before."""
        return self.filter(p_alive__lte=models.F("p_alive_before") - by)


class ClvScore(models.Model):
    """One customer's predictions from one fit (see crm.metrics.clv)."""

    fit = models.ForeignKey(ClvFit, on_delete=models.CASCADE, related_name="scores")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="clv_scores"
    )
    occasions = models.PositiveIntegerField()
    recency_days = models.PositiveIntegerField()
    age_days = models.PositiveIntegerField()
    p_alive = models.FloatField()
    # The same 30 days earlier with the same history; null when the customer
    # bought within those 30 days (not comparable).
    p_alive_before = models.FloatField(null=True, blank=True)
    expected_occasions = models.FloatField()
    expected_spend = models.DecimalField(max_digits=14, decimal_places=2)
    historical_value = models.DecimalField(max_digits=14, decimal_places=2)
    predicted_clv = models.DecimalField(max_digits=14, decimal_places=2)

    objects = ClvScoreQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["fit", "customer"], name="clv_score_one_per_fit_customer"
            )
        ]
        indexes = [
            models.Index(fields=["fit", "-predicted_clv"], name="clv_score_value_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.predicted_clv} (p alive {self.p_alive:.2f})"


# Models kept in their own packages, registered under the crm app.
from .audit.models import AuditEvent  # noqa: E402, F401
from .security.models import SecuritySettings  # noqa: E402, F401
from .team.models import TeamMember  # noqa: E402, F401
