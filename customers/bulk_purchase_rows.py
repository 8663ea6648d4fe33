"""Reading a purchases file for the set-wise import (customers/bulk_purchases.py).

Python reads the CSV and makes the row-by-row importer's checks, in its order
and with its messages; each row that passes becomes a tuple of the values the
rules decide on, which are also the values written (binary COPY sends the
datetimes and Decimals as they are, so PostgreSQL parses nothing again).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO

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

# A checked row: line, customer key, occurred_at, amount, reference, currency,
# channel. A plain tuple: a million named ones cost a second more.
Row = tuple[int, str, datetime, Decimal, str, str, str]
LINE, WHO, MOMENT, AMOUNT, REFERENCE, CURRENCY, CHANNEL = range(7)

# A plain amount: Decimal() reads it as it is (other forms get parse_amount's
# checks and messages).
PLAIN_AMOUNT = re.compile(r"\d{1,10}(\.\d{1,2})?")
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
    amount_is_plain = PLAIN_AMOUNT.fullmatch
    unsafe = UNSAFE_CHARACTER.search
    for line, values in records:
        try:
            if len(values) != width:
                raise RowError(
                    "", "", f"The row has {len(values)} values for {width} columns."
                )
            # One search of the whole row; the cells are searched one by one
            # only when it finds something.
            suspect = unsafe("".join(values))
            if suspect and "\0" in suspect.string:
                check_cells(header, values)
            who = values[i_customer]
            if not who or (suspect and unsafe(who)):
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
            amount_text = values[i_amount]
            if amount_is_plain(amount_text):
                amount = Decimal(amount_text)
            else:
                amount = parse_purchase_amount("amount", amount_text)
            if occurred_at > now:
                check_not_future(moment_text, occurred_at, now)
            reference = values[i_reference] if i_reference is not None else ""
            currency = values[i_currency].upper() if i_currency is not None else ""
            channel = values[i_channel] if i_channel is not None else ""
            if (
                len(reference) > reference_limit
                or len(currency) > currency_limit
                or len(channel) > channel_limit
                or (suspect and (unsafe(reference + currency + channel)))
            ):
                check_purchase_text(reference, currency, channel)
        except RowError as error:
            problems.append(Problem(line, error.column, error.value, error.message))
            continue
        yield (
            line,
            who,
            occurred_at,
            amount,
            reference,
            currency or default_currency,
            channel,
        )
