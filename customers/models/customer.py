"""Customers, their tags and consent, and the QuerySets that read them."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce, Lower
from django.urls import reverse
from django.utils import timezone
from unidecode import unidecode

# Clock skew allowed between a client and the server for "not in the future".
FUTURE_TOLERANCE = timedelta(minutes=5)
CREATED_IN_FUTURE_MESSAGE = "A customer cannot be created in the future."


def normalize_for_search(text: str) -> str:
    """Lower-case and transliterate to ASCII, so "Zoë" finds "zoe", "Łukasz"
    "lukasz", "Søren" "soren", "Þórsdóttir" "thorsdottir" and "Æble" "aeble".

    Stored search text and queries both go through here (on every database),
    so any script unidecode knows matches itself typed either way.
    """
    return " ".join(unidecode(text or "").casefold().split())


def digits_only(text: str) -> str:
    return "".join(c for c in text or "" if c.isdigit())


# Fields that end up in e-mail and SMS headers or CSV cells: one line of text.
SINGLE_LINE_FIELDS = ("first_name", "last_name", "email", "phone", "reference")


UNSAFE_TEXT_MESSAGE = (
    "Line breaks, control characters and unreadable characters are not allowed here."
)


# CR, LF, NUL and the other control characters (Unicode category Cc), the
# Unicode line separators, and U+FFFD (what bytes that were not valid UTF-8
# decode to).
UNSAFE_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffd]")
# Dates before this are typing mistakes (year 1, 0024 for 2024); refusing them
# also keeps every stored moment convertible between time zones.
EARLIEST_YEAR = 1900
TOO_EARLY_MESSAGE = f"Use a date from {EARLIEST_YEAR} on."
# Dates a report or a filter may name: past these, date arithmetic overflows
# (a year 9999 period cannot end a day later) and nothing is there to count.
LATEST_REPORT_YEAR = 2999
REPORT_DAY_MESSAGE = (
    f"Use a date between {EARLIEST_YEAR}-01-01 and {LATEST_REPORT_YEAR}-12-31."
)
# PostgreSQL's timestamptz takes UTC offsets up to 15:59:59; Python up to 23:59.
LARGEST_OFFSET = timedelta(hours=16)
ONE_SECOND = timedelta(seconds=1)
OFFSET_MESSAGE = "Use a UTC offset between -15:59 and +15:59 (such as +02:00)."


def validate_moment(value: datetime) -> None:
    """The validator of every stored moment: forms, API and imports share it.

    Refuses what PostgreSQL would refuse (an offset of 16 hours or more) and
    years before EARLIEST_YEAR, which are typing mistakes.
    """
    if not isinstance(value, datetime):
        return
    offset = value.utcoffset()
    if offset is not None and (abs(offset) >= LARGEST_OFFSET or offset % ONE_SECOND):
        raise ValidationError(OFFSET_MESSAGE, code="offset")
    if value.year < EARLIEST_YEAR:
        raise ValidationError(TOO_EARLY_MESSAGE, code="too_early")


def validate_report_day(value: date) -> None:
    """A day a report, a period or a filter may be about."""
    if not EARLIEST_YEAR <= value.year <= LATEST_REPORT_YEAR:
        raise ValidationError(REPORT_DAY_MESSAGE, code="out_of_range")


def has_unsafe_characters(text: str | None) -> bool:
    """True for line breaks, control characters and unreadable characters.

    A line break in a name would let it start a new header line in a message
    (header injection); refusing it on input keeps such text out of the data.
    """
    return bool(text) and UNSAFE_CHARACTER.search(text) is not None


def validate_single_line(value: str) -> None:
    """The field validator of one-line text: forms, API and imports share it."""
    if has_unsafe_characters(value):
        raise ValidationError(UNSAFE_TEXT_MESSAGE, code="unsafe_characters")


class Tag(models.Model):
    name = models.CharField(max_length=50, validators=[validate_single_line])
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="tag_name_unique_ci",
                violation_error_message="A tag with this name exists already.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# What the customer lists show; fewer columns read means faster pages at 100k rows.
LIST_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "reference",
    "orders_count",
    "total_spent",
    "first_purchase_at",
    "last_purchase_at",
    "last_contact_at",
    "created_at",
    "owner__username",
)


class CustomerQuerySet(models.QuerySet):
    def search(self, query: str) -> CustomerQuerySet:
        """Partial, case- and accent-insensitive match on name, email or phone."""
        digits = digits_only(query)
        if len(digits) >= 3 and not any(c.isalpha() for c in query):
            # A phone number however typed. Without the leading 0 or 00 of a
            # national or international prefix, "07700 900" and "0044 7700 900"
            # find the stored "+44 7700 900123" too.
            condition = Q(search_text__contains=digits)
            if len(digits.lstrip("0")) >= 3:
                condition |= Q(search_text__contains=digits.lstrip("0"))
            return self.filter(condition)
        terms = normalize_for_search(query).split()
        qs = self
        for term in terms:
            condition = Q(search_text__contains=term)
            if digits_only(term) and len(digits_only(term)) >= 3:
                condition |= Q(search_text__contains=digits_only(term))
            qs = qs.filter(condition)
        return qs

    def tagged(self, tag: Tag) -> CustomerQuerySet:
        """Customers carrying the tag."""
        return self.filter(tags=tag)

    def owned_by(self, user) -> CustomerQuerySet:
        """Customers whose account owner is the user."""
        return self.filter(owner=user)

    def waiting_since(self) -> CustomerQuerySet:
        """Annotate when a person last contacted the customer, or joined if never."""
        return self.annotate(waiting_since=Coalesce("last_contact_at", "created_at"))

    def no_contact_in(self, days: int, as_of: datetime | None = None):
        """No personal contact for `days` days (automated messages do not count);
        the never-contacted count from joining."""
        cutoff = (as_of or timezone.now()) - timedelta(days=days)
        return self.filter(
            Q(last_contact_at__lt=cutoff)
            | Q(last_contact_at__isnull=True, created_at__lt=cutoff)
        )

    def needs_follow_up(self, days: int, as_of: datetime | None = None):
        """No contact in `days` days, longest-waiting first."""
        return (
            self.no_contact_in(days, as_of)
            .waiting_since()
            .order_by("waiting_since", "pk")
        )

    def no_purchase_in(self, days: int, as_of: datetime | None = None):
        """Bought before but not in the last `days` days."""
        cutoff = (as_of or timezone.now()) - timedelta(days=days)
        return self.filter(last_purchase_at__lt=cutoff)

    def opted_in(self, channel: str) -> CustomerQuerySet:
        """Customers who consented to messages on the channel ("email" or "sms")."""
        if channel == "email":
            return self.filter(email_opt_in=True).exclude(email="")
        if channel == "sms":
            return self.filter(sms_opt_in=True).exclude(phone="")
        raise ValueError(f"Unknown channel {channel!r}")

    def for_list(self) -> CustomerQuerySet:
        """Just the columns the list pages show (tags: see attach_tag_names)."""
        return self.select_related("owner").only(*LIST_COLUMNS)


class Customer(models.Model):
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    birthday = models.DateField(null=True, blank=True)
    reference = models.CharField(
        max_length=64,
        blank=True,
        help_text="The customer's id in another system (shop, till, spreadsheet).",
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers")
    # No index of its own: cust_owner_idx (owner, last_name) serves every lookup
    # by owner, and each index is one more write per changed customer.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
        related_name="owned_customers",
        help_text="The member of staff who looks after this customer.",
    )
    notes = models.TextField(blank=True)

    email_opt_in = models.BooleanField("email opt-in", default=False)
    email_opt_in_at = models.DateTimeField(null=True, blank=True, editable=False)
    email_opt_in_source = models.CharField(max_length=100, blank=True, editable=False)
    sms_opt_in = models.BooleanField("SMS opt-in", default=False)
    sms_opt_in_at = models.DateTimeField(null=True, blank=True, editable=False)
    sms_opt_in_source = models.CharField(max_length=100, blank=True, editable=False)

    # Running figures, kept by customers.services in the same transaction as the
    # history they summarise, so lists sort on them without aggregating.
    first_purchase_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_purchase_at = models.DateTimeField(null=True, blank=True, editable=False)
    orders_count = models.PositiveIntegerField(default=0, editable=False)
    total_spent = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), editable=False
    )
    # Personal contact only (Interaction.PERSONAL_CONTACT): what "last contact",
    # needs-follow-up, check-in rules and at-risk lists mean. Messages sent by a
    # rule or campaign move last_automated_at instead.
    last_contact_at = models.DateTimeField(
        "last personal contact", null=True, blank=True, editable=False
    )
    last_automated_at = models.DateTimeField(
        "last automated message", null=True, blank=True, editable=False
    )

    # Lower-cased, accent-free name, email and phone, for the trigram index.
    search_text = models.TextField(blank=True, editable=False)

    created_at = models.DateTimeField(
        default=timezone.now, validators=[validate_moment]
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    # The profile: what people may set (pages, API, imports), listed once.
    # Forms, the API, the services, merges, the data download and erasure take
    # their fields from these.
    PROFILE_FIELDS = (
        "first_name",
        "last_name",
        "email",
        "phone",
        "birthday",
        "reference",
        "owner",
        "notes",
    )
    CONSENT_FIELDS = ("email_opt_in", "sms_opt_in")
    # Kept by the services from the history; nobody sets them.
    FIGURE_FIELDS = (
        "first_purchase_at",
        "last_purchase_at",
        "orders_count",
        "total_spent",
        "last_contact_at",
        "last_automated_at",
    )

    # Unique constraints whose violation validate_constraints() reports on a field.
    CONSTRAINT_FIELDS = {
        "customer_email_unique_ci": "email",
        "customer_reference_unique": "reference",
    }

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="customer_email_unique_ci",
                violation_error_message="Another customer already has this email.",
            ),
            models.UniqueConstraint(
                "reference",
                condition=~Q(reference=""),
                name="customer_reference_unique",
                violation_error_message="Another customer already has this reference.",
            ),
            models.CheckConstraint(
                condition=Q(total_spent__gte=0), name="customer_total_spent_gte_0"
            ),
            models.CheckConstraint(
                condition=~Q(first_name="", last_name="", email="", reference=""),
                name="customer_identifiable",
                violation_error_message="Give a name, an email or a reference.",
            ),
        ]
        indexes = [
            # One index per sort order of the list page, with the id tie-break,
            # so a page of 50 is read off an index whatever the sort.
            models.Index(
                fields=["last_name", "first_name", "id"], name="cust_name_idx"
            ),
            models.Index(fields=["total_spent", "id"], name="cust_total_spent_idx"),
            models.Index(fields=["created_at", "id"], name="cust_created_idx"),
            models.Index(fields=["last_contact_at", "id"], name="cust_contact_idx"),
            models.Index(fields=["last_purchase_at", "id"], name="cust_purchase_idx"),
            # The "most recent first, never last" orders have PostgreSQL-only
            # indexes in migration 0002 (SQLite has no NULLS LAST in an index).
            models.Index(
                Coalesce("last_contact_at", "created_at"), name="cust_waiting_idx"
            ),
            models.Index(fields=["owner", "last_name"], name="cust_owner_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs) -> None:
        self.search_text = self.build_search_text()
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        errors = {
            name: UNSAFE_TEXT_MESSAGE
            for name in SINGLE_LINE_FIELDS
            if has_unsafe_characters(getattr(self, name))
        }
        if self.birthday and self.birthday > timezone.localdate():
            errors["birthday"] = "A birthday cannot be in the future."
        if self.birthday and self.birthday.year < EARLIEST_YEAR:
            errors["birthday"] = TOO_EARLY_MESSAGE
        if self.created_at and self.created_at > timezone.now() + FUTURE_TOLERANCE:
            errors["created_at"] = CREATED_IN_FUTURE_MESSAGE
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None) -> None:
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            # Conditional and expression unique constraints come back as non-field
            # errors; "email taken" and "reference taken" belong beside the field.
            field_of = {
                c.get_violation_error_message(): self.CONSTRAINT_FIELDS[c.name]
                for c in self._meta.constraints
                if c.name in self.CONSTRAINT_FIELDS
            }
            errors = error.update_error_dict({})
            for item in errors.pop(NON_FIELD_ERRORS, []):
                field = field_of.get(item.message, NON_FIELD_ERRORS)
                errors.setdefault(field, []).append(item)
            raise ValidationError(errors) from None

    def build_search_text(self) -> str:
        parts = [self.first_name, self.last_name, self.email, self.phone]
        text = normalize_for_search(" ".join(p for p in parts if p))
        phone_digits = digits_only(self.phone)
        return f"{text} {phone_digits}".strip() if phone_digits else text

    @property
    def full_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.reference or f"Customer #{self.pk}"

    @property
    def average_order(self) -> Decimal | None:
        if not self.orders_count:
            return None
        return (self.total_spent / self.orders_count).quantize(Decimal("0.01"))

    def days_since_last_contact(self, today: date | None = None) -> int | None:
        if self.last_contact_at is None:
            return None
        today = today or timezone.localdate()
        return (today - timezone.localdate(self.last_contact_at)).days
