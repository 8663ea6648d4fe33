import hashlib
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Q
from django.utils import timezone

from crm.audit.models import AuditEvent
from customers import demo_writer
from customers.demo import STAFF_USERS
from customers.models import (
    ConsentChange,
    Customer,
    Feedback,
    FollowUp,
    Interaction,
    Purchase,
)
from customers.roles import STAFF
from customers.services import recalculate_figures
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

SMALL = 60
FIGURES = (
    "orders_count",
    "total_spent",
    "first_purchase_at",
    "last_purchase_at",
    "last_contact_at",
    "last_automated_at",
)


@pytest.fixture(autouse=True)
def customers_demo_only(settings):
    """These tests are about the customers' demo data: other apps' seeders (whose
    append-only ledgers cannot be deleted for a reseed) are left out; the whole
    demo is tested in tests/test_demo_all_apps.py."""
    settings.CRM_DEMO_SEEDERS = []


def seed(customers: int = SMALL, seed: int = 7, *extra: str) -> str:
    out = StringIO()
    call_command(
        "seed_demo", "--customers", customers, "--seed", seed, *extra, stdout=out
    )
    return out.getvalue()


def fingerprint() -> str:
    """A digest of every seeded row, without database ids or updated_at."""
    customer_key = ("customer__created_at", "customer__email", "customer__last_name")
    rows = [
        Customer.objects.values_list(
            "first_name",
            "last_name",
            "email",
            "phone",
            "birthday",
            "search_text",
            "created_at",
            "owner__username",
            "email_opt_in",
            "email_opt_in_at",
            "email_opt_in_source",
            "sms_opt_in",
            *FIGURES,
        ),
        Customer.tags.through.objects.values_list(
            "customer__created_at", "customer__email", "tag__name"
        ),
        Purchase.objects.values_list(
            *customer_key,
            "occurred_at",
            "amount",
            "refunded_amount",
            "refunded_at",
            "reference",
            "channel",
            "currency",
            "by__username",
        ),
        Interaction.objects.values_list(
            *customer_key, "occurred_at", "kind", "direction", "subject", "by__username"
        ),
        Feedback.objects.values_list(
            *customer_key, "occurred_at", "kind", "score", "comment"
        ),
        FollowUp.objects.values_list(
            *customer_key, "origin__occurred_at", "due_on", "assignee__username", "note"
        ),
        ConsentChange.objects.values_list(*customer_key, "channel", "at", "source"),
    ]
    digest = hashlib.sha256()
    for queryset in rows:
        for row in sorted(queryset, key=repr):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def test_same_seed_gives_the_same_data():
    seed()
    first = fingerprint()
    Customer.objects.all().delete()
    seed()
    assert fingerprint() == first


def test_another_seed_gives_other_data():
    seed(seed=7)
    first = fingerprint()
    Customer.objects.all().delete()
    seed(seed=8)
    assert fingerprint() != first


def test_copy_and_bulk_create_store_the_same_rows(monkeypatch):
    # PostgreSQL seeds with COPY, SQLite (make run) with bulk_create.
    seed()
    first = fingerprint()
    Customer.objects.all().delete()
    monkeypatch.setattr(demo_writer, "use_copy", lambda: False)
    seed()
    assert fingerprint() == first


def test_seeded_customers_purchases_and_consents_are_audited():
    # The suite runs on PostgreSQL, where the audit triggers are.
    seed()

    inserts = AuditEvent.objects.filter(action="insert")
    for model in (Customer, Purchase, ConsentChange):
        table = model._meta.db_table
        assert inserts.of_table(table).count() == model.objects.count() > 0, table
    purchase = Purchase.objects.order_by("pk").last()
    event = inserts.of_row("customers_purchase", purchase.pk).get()
    assert event.customer_id == purchase.customer_id
    assert event.new_values["reference"] == purchase.reference


def test_running_figures_are_what_recalculate_figures_computes():
    seed()
    before = list(Customer.objects.order_by("pk").values_list("pk", *FIGURES))

    assert recalculate_figures([pk for pk, *_ in before]) == SMALL

    after = list(Customer.objects.order_by("pk").values_list("pk", *FIGURES))
    assert after == before
    # The check means something only if the history is there.
    assert Purchase.objects.exists() and Interaction.objects.exists()
    assert Customer.objects.filter(orders_count__gt=1).exists()


def test_search_text_is_filled_as_save_would():
    seed()
    for customer in Customer.objects.all():
        assert customer.search_text == customer.build_search_text()
        assert customer.search_text


def test_if_empty_does_nothing_when_customers_exist():
    CustomerFactory()

    output = seed(SMALL, 7, "--if-empty")

    assert "no demo data" in output.lower()
    assert Customer.objects.count() == 1
    assert not Purchase.objects.exists()


def test_if_empty_seeds_an_empty_database():
    seed(SMALL, 7, "--if-empty")

    assert Customer.objects.count() == SMALL


def test_seeding_again_refuses_rather_than_colliding():
    seed()

    with pytest.raises(CommandError, match="already"):
        seed()
    assert Customer.objects.count() == SMALL


def test_history_is_valid_and_never_in_the_future():
    seed()
    now = timezone.now()

    assert not Purchase.objects.filter(occurred_at__gt=now).exists()
    assert not Interaction.objects.filter(occurred_at__gt=now).exists()
    assert not Feedback.objects.filter(occurred_at__gt=now).exists()
    assert not Purchase.objects.filter(
        Q(amount__lt=0) | Q(refunded_amount__gt=F("amount"))
    ).exists()
    # Nothing happens to a customer before they were created.
    assert not Purchase.objects.filter(occurred_at__lt=F("customer__created_at"))
    assert not Interaction.objects.filter(occurred_at__lt=F("customer__created_at"))
    for purchase in Purchase.objects.all():
        assert purchase.amount.as_tuple().exponent == -2
        assert purchase.reference.startswith("DEMO-")
        assert (purchase.refunded_amount > 0) == (purchase.refunded_at is not None)
    assert not (
        Purchase.objects.values("reference").annotate(n=Count("pk")).filter(n__gt=1)
    )


def test_history_is_varied():
    seed(200)

    orders = list(Customer.objects.values_list("orders_count", flat=True))
    assert 0 in orders and 1 in orders and max(orders) >= 15
    assert Purchase.objects.filter(refunded_amount__gt=0).exists()
    kinds = set(Interaction.objects.values_list("kind", flat=True))
    assert {"call", "email", "note", "visit"} <= kinds
    assert set(Feedback.objects.values_list("kind", flat=True)) == {"csat", "nps"}
    assert Customer.objects.filter(owner__isnull=False).exists()
    assert Customer.objects.filter(tags__name="VIP").exists()
    assert Customer.objects.filter(email_opt_in=True).exists()
    assert Customer.objects.filter(birthday__isnull=False).exists()


def test_staff_users_are_in_the_staff_group_and_cannot_log_in():
    seed(5)

    staff = Group.objects.get(name=STAFF).user_set.all()
    assert {u.username for u in staff} == {name for name, *_ in STAFF_USERS}
    assert not any(u.has_usable_password() for u in staff)


def test_emails_are_unique_ignoring_case():
    seed(300)

    emails = [
        e.lower()
        for e in Customer.objects.exclude(email="").values_list("email", flat=True)
    ]
    assert len(emails) == len(set(emails))


SEEN: list = []


def seed_test_app(seed: int) -> str:
    SEEN.append((seed, Customer.objects.count()))
    return "Test app: seeded."


def test_other_apps_demo_seeders_run_after_the_customers(db, settings):
    settings.CRM_DEMO_SEEDERS = ["customers.tests.test_seed_demo.seed_test_app"]
    SEEN.clear()
    out = StringIO()
    call_command("seed_demo", customers=5, seed=3, stdout=out)
    assert SEEN == [(3, 5)]
    assert "Test app: seeded." in out.getvalue()
