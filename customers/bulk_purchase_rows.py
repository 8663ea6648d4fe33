"""Reading a purchases file for the set-wise import (customers/bulk_purchases.py).

Python reads the CSV and makes the row-by-row importer's checks, in its order
and with its messages; each row that passes becomes a tuple: the values the
rules decide on, and the same values as COPY will write them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, NamedTuple

from django.conf import settings
from django.utils import timezone

from .csv_input import (
    Problem,
    RowError,
    check_cells,
    check_moment,
    parse_moment,
    read_records,
)
from .import_rules import (
    PURCHASE_COLUMNS,
    PURCHASE_IGNORED,
    PURCHASE_TEXT_LIMITS,
    check_customer_key,
    check_not_future,
    check_purchase_text,
    parse_purchase_amount,
)
from .models.customer import FUTURE_TOLERANCE, UNSAFE_CHARACTER


class Row(NamedTuple):
    line: int
    who: str  # the customer column
    occurred_at: datetime
    amount: Decimal
    reference: str
    currency: str
    channel: str
    # occurred_at and amount as COPY writes them: the file's own text when
    # PostgreSQL reads that text exactly as Python did (most files), since a
    # string costs COPY a third of what a datetime or a Decimal costs to convert.
    copy_moment: datetime | str
    copy_amount: Decimal | str


AMOUNT = re.compile(r"\d{1,10}(\.\d{1,2})?")
# A date-time with its offset, in the one form both Python and PostgreSQL read
# to the same moment (once Python has accepted it as a valid date and time;
# PostgreSQL refuses offsets of 16 hours or more, which Python accepts).
MOMENT_WITH_OFFSET = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-](0\d|1[0-5]):[0-5]\d)"
)
LIMITS = PURCHASE_TEXT_LIMITS


def parsed_rows(
    stream: IO[bytes],
    required,
    problems: list[Problem],
    allowed: set[str] = PURCHASE_COLUMNS | PURCHASE_IGNORED,
) -> Iterator[Row]:
    """Each row that passes the checks Python can make; the rest become problems.

    The common case (an ISO date-time, a plain amount) takes a fast path; any
    other value goes through the row-by-row importer's parsers, so the messages
    are the same.
    """
    now = timezone.now() + FUTURE_TOLERANCE
    zone = timezone.get_current_timezone()
    default_currency = settings.DEFAULT_CURRENCY.upper()
    header, records = read_records(stream, allowed, required)
    width = len(header)
    at = {
        name: header.index(name) if name in header else None
        for name in PURCHASE_COLUMNS
    }
    i_customer, i_moment, i_amount = at["customer"], at["occurred_at"], at["amount"]
    i_reference, i_currency, i_channel = (at[name] for name, _ in LIMITS)
    reference_limit, currency_limit, channel_limit = (limit for _, limit in LIMITS)
    amount_is_plain = AMOUNT.fullmatch
    moment_is_exact = MOMENT_WITH_OFFSET.fullmatch
    unsafe = UNSAFE_CHARACTER.search
    # One string per distinct currency and channel, not one per row.
    currencies: dict[str, str] = {}
    channels: dict[str, str] = {}
    for line, values in records:
        try:
            if len(values) != width:
                raise RowError(
                    "", "", f"The row has {len(values)} values for {width} columns."
                )
            if any("\0" in value for value in values):
                check_cells(header, values)
            who = values[i_customer]
            if not who or unsafe(who):
                check_customer_key(who, create_missing=False)
            moment_text = values[i_moment]
            try:
                if len(moment_text) == 10:
                    occurred_at = datetime.combine(
                        date.fromisoformat(moment_text), time.min, tzinfo=zone
                    )
                else:
                    occurred_at = datetime.fromisoformat(moment_text)
                    if occurred_at.tzinfo is None:
                        occurred_at = occurred_at.replace(tzinfo=zone)
                check_moment("occurred_at", moment_text, occurred_at)
            except ValueError:
                occurred_at = parse_moment("occurred_at", moment_text)
            copy_amount: Decimal | str = values[i_amount]
            if amount_is_plain(copy_amount):
                amount = Decimal(copy_amount)
            else:
                amount = copy_amount = parse_purchase_amount("amount", copy_amount)
            check_not_future(moment_text, occurred_at, now)
            reference = values[i_reference] if i_reference is not None else ""
            currency = values[i_currency].upper() if i_currency is not None else ""
            channel = values[i_channel] if i_channel is not None else ""
            if (
                len(reference) > reference_limit
                or len(currency) > currency_limit
                or len(channel) > channel_limit
                or unsafe(reference)
                or unsafe(currency)
                or unsafe(channel)
            ):
                check_purchase_text(reference, currency, channel)
        except RowError as error:
            problems.append(Problem(line, error.column, error.value, error.message))
            continue
        currency = currency or default_currency
        yield Row(
            line,
            who,
            occurred_at,
            amount,
            reference,
            currencies.setdefault(currency, currency),
            channels.setdefault(channel, channel),
            moment_text if moment_is_exact(moment_text) else occurred_at,
            copy_amount,
        )
