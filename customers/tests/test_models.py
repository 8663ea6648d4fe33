"""The data rules of customers: database constraints, clean(), and model helpers.

Constraint tests write through create/update/bulk_create, which skip clean(), so
only the database stands between a bad row and the table.
"""

from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import (
    Customer,
    Feedback,
    FollowUp,
    Interaction,
    Purchase,
    SavedSegment,
    Tag,
)
from customers.tests.factories import (
    CustomerFactory,
    FeedbackFactory,
    InteractionFactory,
    PurchaseFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@contextmanager
def refused(constraint: str):
    """Expect the database to refuse the write by the named constraint.

    The savepoint keeps the test's own transaction usable afterwards.
    """
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        yield


# Purchases


def test_purchase_with_negative_amount_is_refused_by_the_database():
    customer = CustomerFactory()
    with refused("purchase_amount_gte_0"):
        Purchase.objects.create(
            customer=customer, amount=Decimal("-0.01"), occurred_at=timezone.now()
        )
    assert not Purchase.objects.exists()


def test_purchase_amount_updated_below_zero_is_refused_by_the_database():
    purchase = PurchaseFactory(amount=Decimal("10.00"))
    with refused("purchase_amount_gte_0"):
        Purchase.objects.filter(pk=purchase.pk).update(amount=Decimal("-1"))
    purchase.refresh_from_db()
    assert purchase.amount == Decimal("10.00")


def test_refund_above_the_purchase_amount_is_refused_by_the_database():
    purchase = PurchaseFactory(amount=Decimal("10.00"))
    with refused("purchase_refund_within_amount"):
        Purchase.objects.filter(pk=purchase.pk).update(refunded_amount=Decimal("10.01"))
    purchase.refresh_from_db()
    assert purchase.refunded_amount == Decimal("0")


def test_refund_of_the_whole_amount_is_accepted_by_the_database():
    purchase = PurchaseFactory(amount=Decimal("10.00"))
    Purchase.objects.filter(pk=purchase.pk).update(refunded_amount=Decimal("10.00"))
    purchase.refresh_from_db()
    assert purchase.net_amount == Decimal("0")


def test_negative_refund_is_refused_by_the_database():
    customer = CustomerFactory()
    with refused("purchase_refund_within_amount"):
        Purchase.objects.bulk_create(
            [
                Purchase(
                    customer=customer,
                    amount=Decimal("10.00"),
                    refunded_amount=Decimal("-5.00"),
                    occurred_at=timezone.now(),
                )
            ]
        )
    assert not Purchase.objects.exists()


def test_duplicate_purchase_reference_is_refused_by_the_database():
    PurchaseFactory(reference="ORD-1")
    with refused("purchase_reference_unique"):
        PurchaseFactory(reference="ORD-1")
    assert Purchase.objects.filter(reference="ORD-1").count() == 1


def test_many_purchases_without_reference_are_allowed():
    customer = CustomerFactory()
    PurchaseFactory.create_batch(3, customer=customer, reference="")
    assert Purchase.objects.filter(customer=customer, reference="").count() == 3


def test_purchase_dated_in_the_future_is_refused_by_the_database():
    customer = CustomerFactory()
    with refused("purchase_not_in_future"):
        Purchase.objects.create(
            customer=customer,
            amount=Decimal("5.00"),
            occurred_at=timezone.now() + timedelta(days=1),
        )
    assert not Purchase.objects.exists()


def test_purchase_moved_into_the_future_by_update_is_refused_by_the_database():
    purchase = PurchaseFactory()
    with refused("purchase_not_in_future"):
        Purchase.objects.filter(pk=purchase.pk).update(
            occurred_at=timezone.now() + timedelta(hours=1)
        )


def test_purchase_a_minute_ahead_is_accepted_as_clock_skew():
    purchase = PurchaseFactory(occurred_at=timezone.now() + timedelta(minutes=1))
    assert Purchase.objects.filter(pk=purchase.pk).exists()


# Feedback


@pytest.mark.parametrize(
    ("kind", "score"),
    [
        (Feedback.Kind.CSAT, 0),
        (Feedback.Kind.CSAT, 6),
        (Feedback.Kind.CSAT, 10),
        (Feedback.Kind.NPS, 11),
        (Feedback.Kind.NPS, -1),
    ],
)
def test_feedback_score_out_of_range_for_its_kind_is_refused_by_the_database(
    kind, score
):
    customer = CustomerFactory()
    with refused("feedback_score_in_range"):
        Feedback.objects.create(customer=customer, kind=kind, score=score)
    assert not Feedback.objects.exists()


@pytest.mark.parametrize(
    ("kind", "score"),
    [
        (Feedback.Kind.CSAT, 1),
        (Feedback.Kind.CSAT, 5),
        (Feedback.Kind.NPS, 0),
        (Feedback.Kind.NPS, 10),
    ],
)
def test_feedback_score_at_the_ends_of_its_range_is_accepted(kind, score):
    feedback = Feedback.objects.create(
        customer=CustomerFactory(), kind=kind, score=score
    )
    feedback.full_clean()
    assert Feedback.objects.get(pk=feedback.pk).score == score


def test_feedback_of_unknown_kind_is_refused_by_the_database():
    with refused("feedback_score_in_range"):
        FeedbackFactory(kind="stars", score=3)


def test_feedback_switched_to_csat_with_nps_score_is_refused_by_the_database():
    feedback = FeedbackFactory(kind=Feedback.Kind.NPS, score=9)
    with refused("feedback_score_in_range"):
        Feedback.objects.filter(pk=feedback.pk).update(kind=Feedback.Kind.CSAT)


# Customers


def test_duplicate_customer_reference_is_refused_by_the_database():
    CustomerFactory(reference="SHOP-42")
    with refused("customer_reference_unique"):
        CustomerFactory(reference="SHOP-42")
    assert Customer.objects.filter(reference="SHOP-42").count() == 1


def test_duplicate_email_in_another_letter_case_is_refused_by_the_database():
    CustomerFactory(email="ann@example.com")
    with refused("customer_email_unique_ci"):
        Customer.objects.create(first_name="Ann", email="Ann@Example.com")
    assert Customer.objects.filter(email__iexact="ann@example.com").count() == 1


def test_duplicate_email_by_bulk_create_is_refused_by_the_database():
    with refused("customer_email_unique_ci"):
        Customer.objects.bulk_create(
            [
                Customer(first_name="A", email="same@example.com"),
                Customer(first_name="B", email="SAME@example.com"),
            ]
        )
    assert not Customer.objects.exists()


def test_customers_without_email_or_reference_may_be_many():
    Customer.objects.bulk_create(
        [
            Customer(first_name="Ann", email="", reference=""),
            Customer(first_name="Bob", email="", reference=""),
        ]
    )
    assert Customer.objects.filter(email="", reference="").count() == 2


def test_customer_with_no_name_email_or_reference_is_refused_by_the_database():
    with refused("customer_identifiable"):
        Customer.objects.create(phone="+44 7700 900123")
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"first_name": "Ann"},
        {"last_name": "Lee"},
        {"email": "ann@example.com"},
        {"reference": "R-1"},
    ],
)
def test_customer_with_any_one_identifying_field_is_accepted(fields):
    customer = Customer.objects.create(**fields)
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_clearing_every_identifying_field_is_refused_by_the_database():
    customer = CustomerFactory(reference="")
    with refused("customer_identifiable"):
        Customer.objects.filter(pk=customer.pk).update(
            first_name="", last_name="", email=""
        )


def test_negative_total_spent_is_refused_by_the_database():
    customer = CustomerFactory()
    with refused("customer_total_spent_gte_0"):
        Customer.objects.filter(pk=customer.pk).update(total_spent=Decimal("-0.01"))
    customer.refresh_from_db()
    assert customer.total_spent == Decimal("0")


# Tags and segments


def test_duplicate_tag_name_in_another_case_is_refused_by_the_database():
    Tag.objects.create(name="VIP")
    with refused("tag_name_unique_ci"):
        Tag.objects.create(name="vip")
    assert Tag.objects.count() == 1


def test_duplicate_segment_name_in_another_case_is_refused_by_the_database():
    SavedSegment.objects.create(name="Lapsed", params={})
    with refused("segment_name_unique_ci"):
        SavedSegment.objects.create(name="LAPSED", params={})


# clean()


def test_purchase_clean_refuses_a_date_in_the_future_on_the_field():
    purchase = Purchase(
        customer=CustomerFactory(),
        amount=Decimal("5.00"),
        occurred_at=timezone.now() + timedelta(days=1),
    )
    with pytest.raises(ValidationError) as caught:
        purchase.full_clean()
    assert set(caught.value.message_dict) == {"occurred_at"}


def test_purchase_clean_accepts_a_past_date():
    purchase = Purchase(
        customer=CustomerFactory(),
        amount=Decimal("5.00"),
        occurred_at=timezone.now() - timedelta(days=1),
    )
    purchase.full_clean()
    assert purchase.occurred_at < timezone.now()


def test_purchase_clean_refuses_a_negative_amount_on_the_field():
    purchase = Purchase(
        customer=CustomerFactory(), amount=Decimal("-1"), occurred_at=timezone.now()
    )
    with pytest.raises(ValidationError) as caught:
        purchase.full_clean()
    assert "amount" in caught.value.message_dict


@pytest.mark.parametrize(
    ("kind", "score"),
    [
        (Feedback.Kind.CSAT, 0),
        (Feedback.Kind.CSAT, 6),
        (Feedback.Kind.NPS, 11),
        (Feedback.Kind.NPS, -1),
    ],
)
def test_feedback_clean_refuses_a_score_out_of_range_on_the_score_field(kind, score):
    feedback = Feedback(customer=CustomerFactory(), kind=kind, score=score)
    with pytest.raises(ValidationError) as caught:
        feedback.full_clean()
    assert set(caught.value.message_dict) == {"score"}


def test_customer_clean_refuses_a_birthday_in_the_future():
    customer = Customer(
        first_name="Ann", birthday=timezone.localdate() + timedelta(days=1)
    )
    with pytest.raises(ValidationError) as caught:
        customer.full_clean()
    assert set(caught.value.message_dict) == {"birthday"}


def test_customer_clean_refuses_a_duplicate_email_in_another_case_on_the_field():
    CustomerFactory(email="ann@example.com")
    customer = Customer(first_name="Ann", email="ANN@example.com")
    with pytest.raises(ValidationError) as caught:
        customer.full_clean()
    assert caught.value.message_dict == {
        "email": ["Another customer already has this email."]
    }


def test_customer_clean_refuses_a_duplicate_reference_on_the_field():
    CustomerFactory(reference="SHOP-42")
    customer = Customer(first_name="Ann", reference="SHOP-42")
    with pytest.raises(ValidationError) as caught:
        customer.full_clean()
    assert set(caught.value.message_dict) == {"reference"}


def test_customer_clean_keeps_other_constraint_errors_general():
    customer = Customer(phone="+44 7700 900123")
    with pytest.raises(ValidationError) as caught:
        customer.full_clean()
    assert caught.value.message_dict == {
        "__all__": ["Give a name, an email or a reference."]
    }


def test_customer_clean_accepts_its_own_email_when_editing():
    customer = CustomerFactory(email="ann@example.com")
    customer.first_name = "Annie"
    customer.full_clean()
    assert customer.email == "ann@example.com"


# Model helpers


def test_search_text_is_lower_case_accent_free_with_phone_digits():
    customer = CustomerFactory(
        first_name="Zoë", last_name="Brontë", email="Zoe@Example.com", phone="+44 (0)1"
    )
    assert customer.search_text == "zoe bronte zoe@example.com +44 (0)1 4401"


def test_search_text_follows_a_save_with_update_fields():
    customer = CustomerFactory(first_name="Ann")
    customer.first_name = "Joanna"
    customer.save(update_fields=["first_name"])
    customer.refresh_from_db()
    assert "joanna" in customer.search_text
    assert "ann " not in f"{customer.search_text} "


def test_full_name_falls_back_to_email_then_reference():
    assert str(Customer(first_name="Ann", last_name="Lee")) == "Ann Lee"
    assert str(Customer(email="a@example.com", reference="R1")) == "a@example.com"
    assert str(Customer(reference="R1")) == "R1"


def test_average_order_is_none_without_orders_and_rounded_with_them():
    assert Customer(first_name="A").average_order is None
    customer = Customer(first_name="A", orders_count=3, total_spent=Decimal("10.00"))
    assert customer.average_order == Decimal("3.33")


def test_days_since_last_contact_counts_calendar_days():
    customer = Customer(first_name="A")
    assert customer.days_since_last_contact() is None
    customer.last_contact_at = timezone.now() - timedelta(days=3)
    assert customer.days_since_last_contact() == 3


def test_net_amount_subtracts_the_refund():
    purchase = Purchase(amount=Decimal("30.00"), refunded_amount=Decimal("12.50"))
    assert purchase.net_amount == Decimal("17.50")
    assert not hasattr(purchase, "refundable_amount")  # one property, not two


def test_a_note_does_not_count_as_contact_but_a_call_does():
    assert not Interaction(kind=Interaction.Kind.NOTE).counts_as_contact
    assert Interaction(kind=Interaction.Kind.CALL).counts_as_contact


def test_follow_up_is_overdue_only_when_open_and_past_due():
    origin = InteractionFactory()
    user = UserFactory()
    yesterday = timezone.localdate() - timedelta(days=1)
    overdue = FollowUp(
        customer=origin.customer, origin=origin, assignee=user, due_on=yesterday
    )
    done = FollowUp(
        customer=origin.customer,
        origin=origin,
        assignee=user,
        due_on=yesterday,
        completed_at=timezone.now(),
    )
    today = FollowUp(
        customer=origin.customer,
        origin=origin,
        assignee=user,
        due_on=timezone.localdate(),
    )
    assert overdue.is_overdue
    assert not done.is_overdue
    assert not today.is_overdue


def test_timeline_lists_one_customers_rows_newest_first():
    customer = CustomerFactory()
    now = timezone.now()
    old = InteractionFactory(customer=customer, occurred_at=now - timedelta(days=2))
    new = InteractionFactory(customer=customer, occurred_at=now - timedelta(days=1))
    InteractionFactory()  # someone else's
    assert list(Interaction.objects.for_customer(customer)) == [new, old]


def test_tags_sort_by_name():
    TagFactory(name="b")
    TagFactory(name="a")
    assert [t.name for t in Tag.objects.all()] == ["a", "b"]


def test_customer_clean_accepts_a_birthday_today():
    customer = Customer(first_name="Ann", birthday=timezone.localdate())
    customer.full_clean()
    assert customer.birthday == timezone.localdate()
