"""The rules of the CSV formats that more than one importer applies.

The columns of each format, the checks of a purchases row (the row-by-row
importer and the set-wise one make the same checks, in the same order, with the
same messages), and how a row finds its customer. The engine that reads a file
and applies its rows is customers/imports.py; each format's importer has its
own module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Value
from django.db.models.functions import Lower

from .csv_input import RowError, parse_amount
from .exports import CUSTOMER_HEADER, PURCHASE_HEADER
from .models import Customer
from .models.customer import UNSAFE_TEXT_MESSAGE, has_unsafe_characters

CUSTOMER_COLUMNS = {
    "reference",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birthday",
    "tags",
    "email_opt_in",
    "sms_opt_in",
    "created_at",
}
PURCHASE_COLUMNS = {
    "customer",
    "occurred_at",
    "amount",
    "reference",
    "currency",
    "channel",
}
# The exports' other columns (ids, owners, figures the CRM works out itself):
# accepted so that an export imports again unchanged, and ignored, saying so.
CUSTOMER_IGNORED = set(CUSTOMER_HEADER) - CUSTOMER_COLUMNS
PURCHASE_IGNORED = set(PURCHASE_HEADER) - PURCHASE_COLUMNS

PURCHASE_TEXT_LIMITS = (("reference", 64), ("currency", 3), ("channel", 32))
# The amount column (numeric(12, 2)): 10 digits before the point, 2 after.
LARGEST_AMOUNT = Decimal("1e10")
AMOUNT_LIMIT_MESSAGE = "Use at most 10 digits and 2 decimals."
FUTURE_MESSAGE = "A purchase cannot be dated in the future."
NO_CUSTOMER = (
    "No customer has this reference or email (import customers first, or let "
    "the import create missing customers)."
)

Found = TypeVar("Found")


def check_customer_key(who: str, *, create_missing: bool) -> None:
    """The customer column of a purchases row, before it is looked up.

    No stored reference or email holds a line break, and a customer created from
    the key must be one the CRM would accept (its reference or email).
    """
    if not who:
        raise RowError("customer", "", "Give the customer's reference or email.")
    if has_unsafe_characters(who):
        raise RowError("customer", who, UNSAFE_TEXT_MESSAGE)
    if create_missing:
        problem = new_customer_key_problem(who)
        if problem:
            raise RowError("customer", who, problem)


def new_customer_key_problem(who: str) -> str | None:
    """Why a purchases row's key cannot become a new customer, if it cannot."""
    if "@" in who:
        limit = Customer._meta.get_field("email").max_length
        try:
            validate_email(who)
        except ValidationError:
            return "Enter a valid email address."
    else:
        limit = Customer._meta.get_field("reference").max_length
    if len(who) > limit:
        return f"Use at most {limit} characters."
    return None


def new_customer_identity(who: str) -> dict[str, str]:
    """The fields of a customer made from a purchases row's key."""
    return {"email": who} if "@" in who else {"reference": who}


def parse_purchase_amount(column: str, value: str) -> Decimal:
    """An amount the purchases' amount column can hold, or the row's error."""
    amount = parse_amount(column, value)
    if amount.as_tuple().exponent < -2 or amount >= LARGEST_AMOUNT:
        raise RowError(column, value, AMOUNT_LIMIT_MESSAGE)
    return amount


def check_not_future(value: str, moment: datetime, latest: datetime) -> None:
    if moment > latest:
        raise RowError("occurred_at", value, FUTURE_MESSAGE)


def check_purchase_text(reference: str, currency: str, channel: str) -> None:
    """One-line text within the column's length."""
    for (column, limit), value in zip(
        PURCHASE_TEXT_LIMITS, (reference, currency, channel), strict=True
    ):
        if has_unsafe_characters(value):
            raise RowError(column, value, UNSAFE_TEXT_MESSAGE)
        if len(value) > limit:
            raise RowError(column, value, f"Use at most {limit} characters.")


def pick_customer(
    reference: str,
    email: str,
    *,
    by_reference: Callable[[str], Found | None],
    by_email: Callable[[str], Found | None],
) -> Found | None:
    """The matching rule: by reference first, then by email.

    The lookups say what is stored: ``by_reference`` matches exactly,
    ``by_email`` in any letter case (lower() on both sides, as the unique index
    compares). find_customer looks up one row's keys; the set-wise import looks
    up a whole file's in batches and picks here for each key.
    """
    if reference:
        found = by_reference(reference)
        if found is not None:
            return found
    if email:
        return by_email(email)
    return None


def key_parts(who: str) -> tuple[str, str]:
    """A purchases row's key as (reference, email): a key with @ may be either."""
    return who, who if "@" in who else ""


def find_customer(*, reference: str = "", email: str = "") -> Customer | None:
    """Match by reference first, then by email (any letter case)."""
    return pick_customer(
        reference,
        email,
        by_reference=lambda key: Customer.objects.filter(reference=key).first(),
        by_email=lambda key: (
            Customer.objects.exclude(email="")
            .alias(lowered=Lower("email"))
            .filter(lowered=Lower(Value(key)))
            .first()
        ),
    )


def find_customer_by_key(who: str) -> Customer | None:
    """The customer a purchases (or interactions, balances) row names."""
    reference, email = key_parts(who)
    return find_customer(reference=reference, email=email)
