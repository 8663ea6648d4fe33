"""Changes of state to customers: what each stores, refuses and signals."""

import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from customers import services
from customers.models import (
    ConsentChange,
    Customer,
    Feedback,
    FollowUp,
    Interaction,
    Purchase,
)
from customers.services import FollowUpAlreadyDone, PurchaseReferenceConflict
from customers.signals import customers_merged, purchase_recorded, purchase_refunded
from customers.tests.factories import (
    CustomerFactory,
    FeedbackFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@contextmanager
def caught(signal):
    """Collect the keyword arguments of every sending of the signal."""
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    signal.connect(receiver, weak=False)
    try:
        yield calls
    finally:
        signal.disconnect(receiver)


def figures(customer: Customer) -> tuple:
    customer.refresh_from_db()
    return (
        customer.orders_count,
        customer.total_spent,
        customer.first_purchase_at,
        customer.last_purchase_at,
        customer.last_contact_at,
    )


def buy(customer, amount="10.00", days=1, **kwargs) -> Purchase:
    return services.record_purchase(
        customer=customer, amount=amount, occurred_at=days_ago(days), **kwargs
    )[0]


# record_purchase


def test_record_purchase_stores_it_and_updates_the_running_figures():
    customer = CustomerFactory()
    user = UserFactory()

    purchase = buy(customer, "19.99", days=3, channel="shop", by=user)

    assert purchase.pk is not None
    assert purchase.customer == customer
    assert purchase.amount == Decimal("19.99")
    assert purchase.currency == "EUR"
    assert purchase.channel == "shop"
    assert purchase.by == user
    assert figures(customer) == (1, Decimal("19.99"), days_ago(3), days_ago(3), None)


def test_record_purchase_figures_after_several_purchases_in_any_order():
    customer = CustomerFactory()

    buy(customer, "10.00", days=5)
    buy(customer, "20.50", days=1)
    buy(customer, "5.25", days=9)  # recorded late, bought first

    assert figures(customer) == (3, Decimal("35.75"), days_ago(9), days_ago(1), None)


def test_record_purchase_upper_cases_the_currency():
    purchase = buy(CustomerFactory(), currency="gbp")
    assert purchase.currency == "GBP"


def test_record_purchase_twice_with_one_reference_stores_one():
    customer = CustomerFactory()

    with caught(purchase_recorded) as sent:
        first = buy(customer, "12.00", reference="ORD-1")
        again = buy(customer, "12", reference="ORD-1")

    assert again.pk == first.pk
    assert Purchase.objects.filter(reference="ORD-1").count() == 1
    assert [call["purchase"].pk for call in sent] == [first.pk]
    assert figures(customer)[:2] == (1, Decimal("12.00"))


def test_record_purchase_says_whether_it_stored_the_purchase():
    customer = CustomerFactory()
    at = days_ago(2)
    first, created = services.record_purchase(
        customer=customer, amount="12.00", occurred_at=at, reference="ORD-1"
    )
    again, created_again = services.record_purchase(
        customer=customer, amount="12.00", occurred_at=at, reference="ORD-1"
    )
    assert (created, created_again) == (True, False)
    assert again == first


def test_record_purchase_skip_repeats_finds_the_same_purchase_without_reference():
    customer = CustomerFactory()
    at = days_ago(2)
    first, _ = services.record_purchase(customer=customer, amount="3", occurred_at=at)
    with caught(purchase_recorded) as sent:
        again, created = services.record_purchase(
            customer=customer, amount="3.00", occurred_at=at, skip_repeats=True
        )
        other, other_created = services.record_purchase(
            customer=customer, amount="4", occurred_at=at, skip_repeats=True
        )
    assert (again, created) == (first, False)
    assert other_created and other != first
    assert [call["purchase"] for call in sent] == [other]
    assert figures(customer)[:2] == (2, Decimal("7.00"))


def test_record_purchase_without_skip_repeats_stores_the_same_one_twice():
    customer = CustomerFactory()
    at = days_ago(2)
    for _ in range(2):
        services.record_purchase(customer=customer, amount="3", occurred_at=at)
    assert figures(customer)[0] == 2


def test_record_purchase_strips_the_reference_before_matching():
    customer = CustomerFactory()
    first = buy(customer, reference="ORD-7")
    again = buy(customer, reference="  ORD-7 ")
    assert again.pk == first.pk
    assert Purchase.objects.count() == 1


def test_record_purchase_without_reference_stores_each_one():
    customer = CustomerFactory()
    buy(customer, reference="")
    buy(customer, reference=None)
    assert figures(customer)[0] == 2


def test_record_purchase_sends_purchase_recorded_with_the_purchase_and_user():
    user = UserFactory()
    with caught(purchase_recorded) as sent:
        purchase = buy(CustomerFactory(), by=user)
    assert sent == [{"signal": purchase_recorded, "purchase": purchase, "by": user}]


def test_record_purchase_same_reference_with_another_amount_is_a_conflict():
    customer = CustomerFactory()
    buy(customer, "12.00", reference="ORD-1")

    with caught(purchase_recorded) as sent, pytest.raises(PurchaseReferenceConflict):
        buy(customer, "13.00", reference="ORD-1")

    assert sent == []
    assert figures(customer)[:2] == (1, Decimal("12.00"))


def test_record_purchase_same_reference_for_another_customer_is_a_conflict():
    buy(CustomerFactory(), "12.00", reference="ORD-1")
    other = CustomerFactory()

    with pytest.raises(ValidationError) as error:
        buy(other, "12.00", reference="ORD-1")

    assert isinstance(error.value, PurchaseReferenceConflict)
    assert error.value.message_dict["reference"] == [
        f"Reference ORD-1 is already used by another purchase (12.00 for "
        f"{Purchase.objects.get().customer})."
    ]
    assert figures(other)[:2] == (0, Decimal("0"))


@pytest.mark.parametrize(
    "amount", ["-0.01", "-5", "abc", "", None, "1.005", "NaN", "Infinity"]
)
def test_record_purchase_refuses_a_bad_amount(amount):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as error:
        buy(customer, amount)
    assert set(error.value.message_dict) == {"amount"}
    assert not Purchase.objects.exists()


def test_record_purchase_accepts_a_free_purchase():
    purchase = buy(CustomerFactory(), "0")
    assert purchase.amount == Decimal("0")


def test_record_purchase_refuses_a_naive_datetime():
    customer = CustomerFactory()
    with pytest.raises(ValueError, match="timezone-aware"):
        services.record_purchase(
            customer=customer, amount="10.00", occurred_at=datetime(2024, 1, 1, 12)
        )
    assert not Purchase.objects.exists()


def test_record_purchase_refuses_a_date_in_the_future():
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as error:
        services.record_purchase(
            customer=customer,
            amount="10.00",
            occurred_at=timezone.now() + timedelta(hours=1),
        )
    assert set(error.value.message_dict) == {"occurred_at"}
    assert figures(customer)[0] == 0


def test_record_purchase_refuses_an_amount_too_large_for_the_column():
    with pytest.raises(ValidationError) as error:
        buy(CustomerFactory(), "12345678901.00")
    assert "amount" in error.value.message_dict


# refund_purchase


def test_partial_then_full_refund_lowers_total_spent_and_signals_each_amount():
    customer = CustomerFactory()
    purchase = buy(customer, "40.00")
    buy(customer, "10.00")
    user = UserFactory()

    with caught(purchase_refunded) as sent:
        partly = services.refund_purchase(purchase=purchase, amount="15.00", by=user)
        assert partly.refunded_amount == Decimal("15.00")
        assert figures(customer)[:2] == (2, Decimal("35.00"))

        fully = services.refund_purchase(purchase=purchase)

    assert fully.refunded_amount == Decimal("40.00")
    assert fully.refunded_at is not None
    assert fully.net_amount == Decimal("0")
    # A refunded order is still an order; only the money goes back.
    assert figures(customer)[:2] == (2, Decimal("10.00"))
    assert [(c["purchase"].pk, c["amount"], c["by"]) for c in sent] == [
        (purchase.pk, Decimal("15.00"), user),
        (purchase.pk, Decimal("25.00"), None),
    ]


def test_refund_beyond_what_remains_is_refused_and_changes_nothing():
    customer = CustomerFactory()
    purchase = buy(customer, "40.00")
    services.refund_purchase(purchase=purchase, amount="30.00")

    with caught(purchase_refunded) as sent, pytest.raises(ValidationError) as error:
        services.refund_purchase(purchase=purchase, amount="10.01")

    assert "amount" in error.value.message_dict
    assert sent == []
    purchase.refresh_from_db()
    assert purchase.refunded_amount == Decimal("30.00")
    assert figures(customer)[1] == Decimal("10.00")


def test_refund_of_a_fully_refunded_purchase_is_refused():
    purchase = buy(CustomerFactory(), "40.00")
    services.refund_purchase(purchase=purchase)
    with pytest.raises(ValidationError):
        services.refund_purchase(purchase=purchase)


@pytest.mark.parametrize("amount", ["0", "-1", "x", "0.001"])
def test_refund_of_a_bad_amount_is_refused(amount):
    purchase = buy(CustomerFactory(), "40.00")
    with pytest.raises(ValidationError):
        services.refund_purchase(purchase=purchase, amount=amount)
    purchase.refresh_from_db()
    assert purchase.refunded_amount == Decimal("0")


# log_interaction and follow-ups


def test_log_interaction_stores_it_and_marks_the_customer_contacted():
    customer = CustomerFactory()
    user = UserFactory()

    interaction = services.log_interaction(
        customer=customer,
        kind=Interaction.Kind.CALL,
        subject="Checked in",
        occurred_at=days_ago(2),
        by=user,
    )

    assert interaction.customer == customer
    assert interaction.by == user
    assert customer.last_contact_at == days_ago(2)  # the caller's copy too
    assert figures(customer)[4] == days_ago(2)


def test_log_interaction_of_a_note_does_not_count_as_contact():
    customer = CustomerFactory()
    services.log_interaction(customer=customer, kind=Interaction.Kind.NOTE)
    assert Interaction.objects.filter(customer=customer).count() == 1
    assert figures(customer)[4] is None


@pytest.mark.parametrize(
    "kind", [k for k in Interaction.Kind.values if k != Interaction.Kind.NOTE]
)
def test_log_interaction_of_every_other_kind_counts_as_contact(kind):
    customer = CustomerFactory()
    services.log_interaction(customer=customer, kind=kind, occurred_at=days_ago(1))
    assert figures(customer)[4] == days_ago(1)


# Any mix of kinds, automated or by a person, in any order of time.
interaction_histories = st.lists(
    st.tuples(
        st.sampled_from(Interaction.Kind.values),
        st.booleans(),
        st.integers(min_value=0, max_value=60 * 24 * 400),
    ),
    max_size=12,
)


class Rollback(Exception):
    pass


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(history=interaction_histories)
def test_last_contact_is_personal_contact_and_automated_messages_are_apart(history):
    now = timezone.now()
    try:
        with transaction.atomic():
            customer = CustomerFactory()
            for kind, automated, minutes in history:
                services.log_interaction(
                    customer=customer,
                    kind=kind,
                    automated=automated,
                    occurred_at=now - timedelta(minutes=minutes),
                )
            # Worked out here from the history, not with the model's rule.
            personal = [
                now - timedelta(minutes=m)
                for k, automated, m in history
                if k != "note" and not automated
            ]
            sent = [
                now - timedelta(minutes=m)
                for k, automated, m in history
                if k != "note" and automated
            ]
            expected = (max(personal, default=None), max(sent, default=None))
            stored = Customer.objects.values_list(
                "last_contact_at", "last_automated_at"
            )
            assert stored.get(pk=customer.pk) == expected
            assert (customer.last_contact_at, customer.last_automated_at) == expected
            Customer.objects.filter(pk=customer.pk).update(
                last_contact_at=None, last_automated_at=now
            )
            services.recalculate_figures([customer.pk])
            assert stored.get(pk=customer.pk) == expected
            raise Rollback
    except Rollback:
        pass


def test_an_automated_message_is_not_contact_and_a_staff_email_is():
    user = UserFactory()
    customer = CustomerFactory(created_at=days_ago(400))
    sent = services.log_interaction(
        customer=customer, kind="email", occurred_at=days_ago(1), automated=True
    )
    assert sent.automated and not sent.counts_as_contact
    customer.refresh_from_db()
    assert (customer.last_contact_at, customer.last_automated_at) == (
        None,
        days_ago(1),
    )
    assert Customer.objects.needs_follow_up(30).filter(pk=customer.pk).exists()
    written = services.log_interaction(
        customer=customer, kind="email", occurred_at=days_ago(2), by=user
    )
    assert not written.automated and written.counts_as_contact
    customer.refresh_from_db()
    assert (customer.last_contact_at, customer.last_automated_at) == (
        days_ago(2),
        days_ago(1),
    )
    assert not Customer.objects.needs_follow_up(30).filter(pk=customer.pk).exists()


def test_log_interaction_in_the_past_does_not_move_last_contact_back():
    customer = CustomerFactory()
    services.log_interaction(customer=customer, kind="call", occurred_at=days_ago(1))
    services.log_interaction(customer=customer, kind="visit", occurred_at=days_ago(9))
    assert figures(customer)[4] == days_ago(1)
    assert customer.interactions.count() == 2


def test_log_interaction_refuses_the_future_and_unknown_kinds():
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as error:
        services.log_interaction(
            customer=customer,
            kind="call",
            occurred_at=timezone.now() + timedelta(days=1),
        )
    assert "occurred_at" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.log_interaction(customer=customer, kind="telepathy")
    assert "kind" in error.value.message_dict
    assert not Interaction.objects.exists()
    assert figures(customer)[4] is None


def test_log_interaction_with_a_follow_up_creates_it_for_the_assignee():
    customer = CustomerFactory()
    user, colleague = UserFactory(), UserFactory()
    due = timezone.localdate() + timedelta(days=7)

    interaction = services.log_interaction(
        customer=customer,
        kind="call",
        by=user,
        follow_up_on=due,
        follow_up_assignee=colleague,
        follow_up_note="Send the quote",
    )

    follow_up = FollowUp.objects.get()
    assert follow_up.customer == customer
    assert follow_up.origin == interaction
    assert follow_up.assignee == colleague
    assert follow_up.due_on == due
    assert follow_up.note == "Send the quote"
    assert follow_up.completed_at is None


def test_log_interaction_follow_up_without_assignee_goes_to_the_author():
    user = UserFactory()
    services.log_interaction(
        customer=CustomerFactory(),
        kind="note",
        by=user,
        follow_up_on=timezone.localdate(),
    )
    assert FollowUp.objects.get().assignee == user


def make_follow_up(customer, user) -> FollowUp:
    services.log_interaction(
        customer=customer,
        kind="call",
        occurred_at=days_ago(3),
        by=user,
        follow_up_on=timezone.localdate(),
    )
    return FollowUp.objects.get(customer=customer)


def test_complete_follow_up_logs_the_interaction_and_marks_it_done():
    customer = CustomerFactory()
    user = UserFactory()
    follow_up = make_follow_up(customer, user)

    done = services.complete_follow_up(
        follow_up=follow_up, by=user, kind="email", subject="Quote sent"
    )

    follow_up.refresh_from_db()
    assert follow_up.completed_at is not None
    assert follow_up.completed_by == done
    assert done.customer == customer
    assert done.kind == "email"
    assert done.by == user
    assert figures(customer)[4] == done.occurred_at
    assert FollowUp.objects.open().count() == 0


def test_complete_follow_up_twice_raises_and_logs_nothing_more():
    customer = CustomerFactory()
    user = UserFactory()
    follow_up = make_follow_up(customer, user)
    services.complete_follow_up(follow_up=follow_up, by=user, kind="call")
    interactions = customer.interactions.count()

    with pytest.raises(FollowUpAlreadyDone):
        # The caller's copy is stale: the service must read the row itself.
        services.complete_follow_up(follow_up=follow_up, by=user, kind="call")

    assert customer.interactions.count() == interactions


# create_customer and update_customer


def test_create_customer_stores_it_with_tags_and_records_consent():
    user = UserFactory()
    vip = TagFactory(name="VIP")

    customer = services.create_customer(
        by=user,
        tags=[vip],
        consent_source="shop form",
        first_name="Zoë",
        email="zoe@example.com",
        email_opt_in=True,
    )

    customer.refresh_from_db()
    assert customer.search_text.startswith("zoe ")
    assert list(customer.tags.all()) == [vip]
    assert customer.email_opt_in is True
    assert customer.email_opt_in_at is not None
    assert customer.email_opt_in_source == "shop form"
    assert customer.sms_opt_in is False
    change = ConsentChange.objects.get()
    assert (change.customer, change.channel, change.opted_in, change.by) == (
        customer,
        "email",
        True,
        user,
    )


def test_create_customer_refuses_a_duplicate_email_in_another_case_on_the_field():
    CustomerFactory(email="ann@example.com")
    with pytest.raises(ValidationError) as error:
        services.create_customer(first_name="Ann", email="Ann@Example.com")
    assert error.value.message_dict == {
        "email": ["Another customer already has this email."]
    }
    assert Customer.objects.count() == 1


def test_create_customer_refuses_a_customer_with_nothing_to_identify_them():
    with pytest.raises(ValidationError):
        services.create_customer(phone="+44 7700 900123")
    assert not Customer.objects.exists()


def test_create_customer_refuses_unknown_fields():
    with pytest.raises(TypeError, match="total_spent"):
        services.create_customer(first_name="Ann", total_spent=Decimal("100"))
    assert not Customer.objects.exists()


def test_update_customer_records_consent_changes_only_when_consent_changes():
    customer = CustomerFactory()
    user = UserFactory()

    services.update_customer(customer=customer, by=user, email_opt_in=True)
    services.update_customer(
        customer=customer, by=user, email_opt_in=True, first_name="Annie"
    )
    services.update_customer(customer=customer, by=user, first_name="Ann")
    assert ConsentChange.objects.filter(customer=customer).count() == 1

    services.update_customer(
        customer=customer, email_opt_in=False, sms_opt_in=False, consent_source="call"
    )

    changes = list(
        ConsentChange.objects.filter(customer=customer)
        .order_by("pk")
        .values_list("channel", "opted_in", "by", "source")
    )
    assert changes == [
        ("email", True, user.pk, "staff"),
        ("email", False, None, "call"),
    ]
    customer.refresh_from_db()
    assert customer.first_name == "Ann"
    assert customer.email_opt_in is False
    assert customer.email_opt_in_source == "call"


def test_update_customer_refuses_another_customers_email_and_changes_nothing():
    CustomerFactory(email="ann@example.com")
    customer = CustomerFactory(first_name="Bob", email="bob@example.com")
    with pytest.raises(ValidationError) as error:
        services.update_customer(
            customer=customer, first_name="Robert", email="ANN@example.com"
        )
    assert "email" in error.value.message_dict
    customer.refresh_from_db()
    assert (customer.first_name, customer.email) == ("Bob", "bob@example.com")


def test_update_customer_replaces_tags_only_when_given():
    a, b = TagFactory(), TagFactory()
    customer = CustomerFactory()
    customer.tags.set([a])
    services.update_customer(customer=customer, first_name="Ann")
    assert set(customer.tags.all()) == {a}
    services.update_customer(customer=customer, tags=[b])
    assert set(customer.tags.all()) == {b}


# record_feedback


def test_record_feedback_refuses_a_score_out_of_range_for_its_kind():
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as error:
        services.record_feedback(customer=customer, kind="csat", score=6)
    assert set(error.value.message_dict) == {"score"}
    feedback = services.record_feedback(customer=customer, kind="nps", score=0)
    assert Feedback.objects.get() == feedback


# recalculate_figures


def test_recalculate_figures_matches_the_incremental_figures():
    customer = CustomerFactory()
    first = buy(customer, "40.00", days=30)
    buy(customer, "12.34", days=2)
    buy(customer, "7.66", days=15)
    services.refund_purchase(purchase=first, amount="5.00")
    services.log_interaction(customer=customer, kind="call", occurred_at=days_ago(4))
    services.log_interaction(customer=customer, kind="note", occurred_at=days_ago(1))
    bystander = CustomerFactory()
    buy(bystander, "99.00")
    incremental = figures(customer)
    assert incremental == (3, Decimal("55.00"), days_ago(30), days_ago(2), days_ago(4))
    Customer.objects.filter(pk=customer.pk).update(
        orders_count=0, total_spent=0, first_purchase_at=None, last_contact_at=None
    )

    updated = services.recalculate_figures([customer.pk])

    assert updated == 1
    assert figures(customer) == incremental
    assert figures(bystander)[:2] == (1, Decimal("99.00"))


def test_recalculate_figures_of_a_customer_without_history_is_empty():
    customer = CustomerFactory()
    Customer.objects.filter(pk=customer.pk).update(
        orders_count=4, total_spent=10, last_purchase_at=NOW, last_contact_at=NOW
    )
    services.recalculate_figures([customer.pk])
    assert figures(customer) == (0, Decimal("0"), None, None, None)


# merge_customers


def test_merge_customers_moves_history_recomputes_figures_and_fills_blanks():
    owner = UserFactory()
    by = UserFactory()
    a, b, c = TagFactory(name="a"), TagFactory(name="b"), TagFactory(name="c")
    keep = CustomerFactory(
        first_name="Ann", last_name="Lee", email="", phone="", reference="K-1"
    )
    keep.tags.set([a, b])
    merge = CustomerFactory(
        first_name="Annie",
        last_name="",
        email="ann@example.com",
        phone="+44 7700 900123",
        reference="M-1",
        owner=owner,
        created_at=days_ago(400),
    )
    merge.tags.set([b, c])
    buy(keep, "10.00", days=20)
    moved = buy(merge, "30.00", days=50, reference="ORD-9")
    buy(merge, "5.00", days=3)
    services.refund_purchase(purchase=moved, amount="10.00")
    services.log_interaction(
        customer=merge,
        kind="call",
        occurred_at=days_ago(6),
        by=by,
        follow_up_on=timezone.localdate(),
    )
    services.log_interaction(customer=keep, kind="call", occurred_at=days_ago(8))
    FeedbackFactory(customer=merge, kind="nps", score=9)
    services.update_customer(customer=merge, sms_opt_in=True)
    merge_pk = merge.pk
    sent = []

    def receiver(sender, kept, merged, by, **kwargs):
        # Receivers move their own rows, so the merged one must still be there.
        still_there = Customer.objects.filter(pk=merged.pk).exists()
        sent.append((kept.pk, merged.pk, by, still_there))

    customers_merged.connect(receiver)
    try:
        kept = services.merge_customers(keep=keep, merge=merge, by=by)
    finally:
        customers_merged.disconnect(receiver)

    assert not Customer.objects.filter(pk=merge_pk).exists()
    assert kept.pk == keep.pk
    # History moved.
    assert kept.purchases.count() == 3
    assert Purchase.objects.get(reference="ORD-9").customer == kept
    assert kept.feedback.count() == 1
    assert kept.follow_ups.count() == 1
    assert kept.consent_changes.count() == 1
    assert kept.interactions.filter(kind="call").count() == 2
    # Figures recomputed from the merged history.
    assert figures(kept) == (
        3,
        Decimal("35.00"),
        days_ago(50),
        days_ago(3),
        days_ago(6),
    )
    # Tags are the union; blank fields come from the merged record, set ones stay.
    assert {t.name for t in kept.tags.all()} == {"a", "b", "c"}
    assert kept.first_name == "Ann"
    assert kept.last_name == "Lee"
    assert kept.reference == "K-1"
    assert kept.email == "ann@example.com"
    assert kept.phone == "+44 7700 900123"
    assert kept.owner == owner
    assert kept.created_at == days_ago(400)
    assert kept.sms_opt_in is True
    assert "7700 900123" in kept.search_text
    # The merge is on the timeline and was announced before the row went.
    note = kept.interactions.get(kind="note")
    assert note.by == by
    assert "Annie" in note.subject
    assert sent == [(keep.pk, merge_pk, by, True)]


def test_merge_customers_with_itself_is_refused():
    customer = CustomerFactory()
    with pytest.raises(ValidationError):
        services.merge_customers(keep=customer, merge=customer)
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_merge_customers_keeps_the_kept_records_opt_out_and_its_source():
    keep = CustomerFactory()
    merge = CustomerFactory()
    services.update_customer(customer=merge, email_opt_in=True, consent_source="web")
    services.update_customer(customer=keep, email_opt_in=True, consent_source="till")
    services.update_customer(customer=keep, email_opt_in=False, consent_source="call")

    kept = services.merge_customers(keep=keep, merge=merge)

    assert kept.email_opt_in is False
    assert kept.email_opt_in_source == "call"


# Concurrency, on real PostgreSQL transactions


def in_thread(target, errors: list):
    def run():
        try:
            target()
        except Exception as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    return threading.Thread(target=run)


@pytest.mark.django_db(transaction=True)
def test_concurrent_purchases_for_one_customer_all_count():
    customer = CustomerFactory()
    threads_count = 6
    start = threading.Barrier(threads_count)
    errors: list[Exception] = []

    def purchase(number):
        def run():
            start.wait(timeout=10)
            buy(customer, "10.01", days=number + 1, reference=f"ORD-{number}")

        return run

    threads = [in_thread(purchase(n), errors) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert Purchase.objects.filter(customer=customer).count() == threads_count
    assert figures(customer)[:4] == (
        threads_count,
        Decimal("60.06"),
        days_ago(threads_count),
        days_ago(1),
    )


def backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def wait_until_blocked(pids: list[int], timeout: float = 10) -> bool:
    """Wait until the other connection waits on a lock; False if it never does."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            if pids:
                cursor.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                    [pids[0]],
                )
                row = cursor.fetchone()
                if row and row[0] == "Lock":
                    return True
            time.sleep(0.02)
    return False


@pytest.mark.django_db(transaction=True)
def test_purchase_waits_for_another_on_the_same_customer_and_adds_to_it():
    customer = CustomerFactory()
    first_stored, release = threading.Event(), threading.Event()
    second_pid: list[int] = []
    errors: list[Exception] = []

    def first():
        with transaction.atomic():
            buy(customer, "10.00", days=2, reference="ORD-A")
            first_stored.set()
            release.wait(timeout=10)

    def second():
        first_stored.wait(timeout=10)
        second_pid.append(backend_pid())
        buy(customer, "5.00", days=1, reference="ORD-B")

    threads = [in_thread(first, errors), in_thread(second, errors)]
    for thread in threads:
        thread.start()
    # The second purchase must queue behind the first's lock on the customer.
    blocked = wait_until_blocked(second_pid)
    release.set()
    for thread in threads:
        thread.join(timeout=30)

    assert blocked
    assert errors == []
    assert figures(customer)[:4] == (2, Decimal("15.00"), days_ago(2), days_ago(1))


@pytest.mark.django_db(transaction=True)
def test_concurrent_reference_for_another_customer_is_a_conflict_not_a_crash():
    ann, bob = CustomerFactory(), CustomerFactory()
    first_stored, release = threading.Event(), threading.Event()
    second_pid: list[int] = []
    errors: list[Exception] = []

    def first():
        with transaction.atomic():
            buy(ann, "10.00", reference="ORD-1")
            first_stored.set()
            release.wait(timeout=10)

    def second():
        first_stored.wait(timeout=10)
        second_pid.append(backend_pid())
        buy(bob, "10.00", reference="ORD-1")

    threads = [in_thread(first, errors), in_thread(second, errors)]
    for thread in threads:
        thread.start()
    # Bob's insert waits on the unique index until Ann's order commits.
    blocked = wait_until_blocked(second_pid)
    release.set()
    for thread in threads:
        thread.join(timeout=30)

    assert blocked
    assert [type(error) for error in errors] == [PurchaseReferenceConflict]
    assert list(Purchase.objects.values_list("customer", flat=True)) == [ann.pk]
    assert figures(bob)[:2] == (0, Decimal("0"))
    assert figures(ann)[:2] == (1, Decimal("10.00"))


def test_follow_up_without_anyone_to_do_it_is_refused_and_nothing_is_stored():
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as error:
        services.log_interaction(
            customer=customer,
            kind="call",
            subject="Left a message",
            follow_up_on=timezone.localdate(),
        )
    assert "follow_up_assignee" in error.value.message_dict
    assert not customer.interactions.exists()
    assert not customer.follow_ups.exists()


def test_duplicate_tag_name_in_another_case_has_a_readable_message():
    services.create_tag(name="VIP")
    with pytest.raises(ValidationError) as error:
        services.create_tag(name="vip")
    assert "A tag with this name exists already." in str(error.value)
