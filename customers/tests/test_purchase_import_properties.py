"""Random purchases files, imported set-wise and row by row, against a model.

Hypothesis writes files from a small vocabulary, so that references repeat,
rows without reference repeat (in other spellings of the same moment and
amount), references clash with stored or earlier ones, keys name nobody, name
a customer by email in another letter case, or would make a customer under
create_missing (some of them invalid as emails). The expected report and the
expected rows are worked out here, from the formats' documented rules, with no
code of the importers; both paths must give exactly those.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from customers import services
from customers.models import Customer, Purchase
from customers.purchase_import import PurchaseImporter
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ZONE = "Europe/Paris"
HEADER = "customer,occurred_at,amount,reference,currency,channel"
KEYS = [
    "C-1",
    "ann@example.com",
    "ANN@Example.COM",
    "C-2",
    "c-1",  # references are exact: another customer's, or nobody's
    "C-404",
    "new@example.com",
    "New@Example.com",
    "NEW-1",
    "bad@",
    # Valid (localhost is allowed), and the same email in capitals is not: it
    # may name the customer its lower-case spelling made, but not make one.
    "new@localhost",
    "NEW@LOCALHOST",
    "",
]
# Keys create_missing cannot make a customer of: not valid emails.
NOT_EMAILS = {"bad@", "NEW@LOCALHOST"}
MOMENTS = [
    "2024-05-01",
    "2024-05-02T14:30:00+02:00",
    "2024-05-02T12:30:00Z",  # the moment above, written in UTC
    "2024-05-03T09:00:00",
    "2999-01-01",
]
AMOUNTS = ["5", "5.00", "7.50", "20.00", "1.999"]
REFERENCES = ["", "", "", "ORD-S1", "ORD-1", "ORD-2"]
NO_CUSTOMER = (
    "No customer has this reference or email (import customers first, or let "
    "the import create missing customers)."
)

rows = st.lists(
    st.tuples(
        st.sampled_from(KEYS),
        st.sampled_from(MOMENTS),
        st.sampled_from(AMOUNTS),
        st.sampled_from(REFERENCES),
        st.sampled_from(["", "usd"]),
        st.sampled_from(["", "shop"]),
    ),
    min_size=1,
    max_size=25,
)


# The model: what the design notes say an import does.


@dataclass
class ModelCustomer:
    reference: str = ""
    email: str = ""
    name: str = ""
    purchases: list[tuple] = field(default_factory=list)

    def __str__(self) -> str:
        return self.name or self.email or self.reference


def moment(text: str) -> datetime:
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time.min, ZoneInfo(ZONE))
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(ZONE))


def expected(file_rows, customers: list[ModelCustomer], *, create_missing: bool):
    """(report, purchases, figures) as the design notes describe the import."""
    created = unchanged = 0
    rejected = []
    made: list[ModelCustomer] = []

    def find(key: str) -> ModelCustomer | None:
        everyone = customers + made
        by_reference = [c for c in everyone if c.reference and c.reference == key]
        if by_reference:
            return by_reference[0]
        if "@" in key:
            by_email = [c for c in everyone if c.email.lower() == key.lower()]
            return by_email[0] if by_email else None
        return None

    for line, (key, when, amount_text, reference, currency, channel) in enumerate(
        file_rows, start=2
    ):
        if not key:
            rejected.append(
                (line, "customer", "", "Give the customer's reference or email.")
            )
            continue
        amount = Decimal(amount_text)
        if amount != amount.quantize(Decimal("0.01")):
            rejected.append(
                (line, "amount", amount_text, "Use at most 10 digits and 2 decimals.")
            )
            continue
        at = moment(when)
        if at.year > 2100:
            message = "A purchase cannot be dated in the future."
            rejected.append((line, "occurred_at", when, message))
            continue
        customer = find(key)
        if customer is None:
            if not create_missing:
                rejected.append((line, "customer", key, NO_CUSTOMER))
                continue
            if key in NOT_EMAILS:
                rejected.append((line, "customer", key, "Enter a valid email address."))
                continue
            customer = ModelCustomer(
                **({"email": key} if "@" in key else {"reference": key})
            )
        everything = [(c, p) for c in customers + made for p in c.purchases]
        if reference:
            holders = [(c, p) for c, p in everything if p[2] == reference]
            if holders:
                holder, purchase = holders[0]
                if holder is customer and purchase[1] == amount:
                    unchanged += 1
                else:
                    rejected.append(
                        (
                            line,
                            "reference",
                            reference,
                            f"Reference {reference} is already used by another "
                            f"purchase ({purchase[1]:.2f} for {holder}).",
                        )
                    )
                continue
        elif any(p[0] == at and p[1] == amount for p in customer.purchases):
            unchanged += 1
            continue
        if customer not in customers + made:
            made.append(customer)
        customer.purchases.append(
            (at, amount, reference, (currency or "EUR").upper(), channel)
        )
        created += 1

    report = (len(file_rows), created, unchanged, rejected)
    purchases = sorted(
        (c.reference, c.email, p[0], p[1], p[2], p[3], p[4])
        for c in customers + made
        for p in c.purchases
    )
    figures = sorted(
        (
            c.reference,
            c.email,
            len(c.purchases),
            sum((p[1] for p in c.purchases), Decimal("0")),
            min((p[0] for p in c.purchases), default=None),
            max((p[0] for p in c.purchases), default=None),
        )
        for c in customers + made
    )
    return report, purchases, figures


# The database, set up and read back the same way for both paths.

STORED_MOMENT = "2024-05-01"


def stored_customers() -> list[ModelCustomer]:
    """The customers and purchases each import starts from, in the model."""
    ann = ModelCustomer("C-1", "ann@example.com", "Ann One")
    bob = ModelCustomer("C-2", "", "Bob Two")
    ann.purchases.append((moment("2024-04-01"), Decimal("5.00"), "ORD-S1", "EUR", ""))
    bob.purchases.append((moment(STORED_MOMENT), Decimal("7.50"), "", "EUR", ""))
    return [ann, bob]


def store_customers() -> None:
    """The same, in the database (through the services)."""
    ann = CustomerFactory(
        reference="C-1", email="ann@example.com", first_name="Ann", last_name="One"
    )
    bob = CustomerFactory(reference="C-2", email="", first_name="Bob", last_name="Two")
    services.record_purchase(
        customer=ann,
        amount="5.00",
        occurred_at=moment("2024-04-01"),
        reference="ORD-S1",
    )
    services.record_purchase(
        customer=bob, amount="7.50", occurred_at=moment(STORED_MOMENT)
    )


def stored_state():
    purchases = sorted(
        Purchase.objects.values_list(
            "customer__reference",
            "customer__email",
            "occurred_at",
            "amount",
            "reference",
            "currency",
            "channel",
        )
    )
    figures = sorted(
        Customer.objects.values_list(
            "reference",
            "email",
            "orders_count",
            "total_spent",
            "first_purchase_at",
            "last_purchase_at",
        )
    )
    return purchases, figures


def imported(text: str, *, row_by_row: bool, create_missing: bool):
    with transaction.atomic():
        store_customers()
        report = PurchaseImporter(
            row_by_row=row_by_row, create_missing=create_missing
        ).run(io.BytesIO(text.encode()))
        state = stored_state()
        transaction.set_rollback(True)
    described = (
        report.rows,
        report.created,
        report.unchanged,
        [(p.line, p.column, p.value, p.message) for p in report.rejected],
    )
    return described, state


@pytest.fixture
def business_zone(settings):
    settings.TIME_ZONE = ZONE


# Cases a random search may take long to hit, always tried.
@example(
    file_rows=[
        ("New@Example.com", "2024-05-01", "5", "ORD-S1", "", ""),  # refused
        ("new@example.com", "2024-05-01", "5", "", "", ""),  # makes the customer
        ("New@Example.com", "2024-05-01", "5.00", "", "", ""),  # the same again
        ("NEW@LOCALHOST", "2024-05-01", "5", "", "", ""),  # makes nobody
        ("new@localhost", "2024-05-01", "5", "ORD-1", "", ""),
        ("NEW@LOCALHOST", "2024-05-01", "5", "ORD-1", "", ""),  # found now
        ("c-1", "2024-05-03T09:00:00", "7.50", "ORD-2", "usd", "shop"),
        ("C-1", "2024-05-03T09:00:00", "7.50", "ORD-2", "", ""),  # c-1's
    ],
    create_missing=True,
)
@example(
    file_rows=[
        ("C-2", STORED_MOMENT, "7.5", "", "", ""),  # stored already
        ("C-1", "2024-05-02T14:30:00+02:00", "20.00", "ORD-1", "", ""),
        ("ann@example.com", "2024-05-02T12:30:00Z", "20", "", "", ""),  # ORD-1
        ("C-1", "2024-05-02T12:30:00Z", "20", "ORD-2", "", ""),  # its own
        ("ANN@Example.COM", "2024-05-01", "1.999", "ORD-1", "", ""),
        ("C-2", "2999-01-01", "5", "ORD-1", "", ""),
        ("C-404", "2024-05-01", "5", "ORD-1", "", ""),
    ],
    create_missing=False,
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(file_rows=rows, create_missing=st.booleans())
def test_both_import_paths_do_what_the_rules_say(
    business_zone, file_rows, create_missing
):
    text = "\n".join([HEADER, *(",".join(row) for row in file_rows)]) + "\n"
    report, purchases, figures = expected(
        file_rows, stored_customers(), create_missing=create_missing
    )
    for row_by_row in (True, False):
        got_report, (got_purchases, got_figures) = imported(
            text, row_by_row=row_by_row, create_missing=create_missing
        )
        path = "row by row" if row_by_row else "set-wise"
        assert got_report == report, path
        assert got_purchases == purchases, path
        assert got_figures == figures, path
