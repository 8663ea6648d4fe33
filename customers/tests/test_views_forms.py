"""The pages that change data: good input is stored, bad input is shown and not."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import services
from customers.models import (
    ConsentChange,
    Customer,
    Feedback,
    FollowUp,
    Interaction,
    Purchase,
    Tag,
)
from customers.tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


def local(moment) -> str:
    """A moment as the browser's datetime-local input sends it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def tomorrow() -> str:
    return local(timezone.now() + timedelta(days=1))


def field_errors(response, field: str) -> list[str]:
    assert response.status_code == 200, "a refused form is shown again"
    return response.context["form"].errors.get(field, [])


# --- Create a customer ---------------------------------------------------------

CREATE = reverse("customers:create")
GOOD_CUSTOMER = {
    "first_name": "Ann",
    "last_name": "Archer",
    "email": "ann@example.com",
    "phone": "+44 20 7946 0001",
    "birthday": "1985-06-30",
    "reference": "",
    "owner": "",
    "notes": "",
}


def test_create_customer_stores_it_and_opens_it(staff_client, staff_user):
    vip = TagFactory(name="VIP")
    data = {**GOOD_CUSTOMER, "tags": [vip.pk], "email_opt_in": "on"}
    response = staff_client.post(CREATE, data)
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    assert (customer.first_name, customer.email) == ("Ann", "ann@example.com")
    assert list(customer.tags.all()) == [vip]
    assert customer.email_opt_in and not customer.sms_opt_in
    change = ConsentChange.objects.get(customer=customer)
    assert (change.channel, change.opted_in, change.by) == ("email", True, staff_user)


@pytest.mark.parametrize(
    "field, value",
    [
        ("email", "not-an-email"),
        ("first_name", "x" * 101),
        ("last_name", "y" * 101),
        ("birthday", (timezone.localdate() + timedelta(days=1)).isoformat()),
        ("birthday", "31/02/1990"),
        ("phone", "call me"),
    ],
)
def test_create_customer_refuses_bad_input(staff_client, field, value):
    response = staff_client.post(CREATE, {**GOOD_CUSTOMER, field: value})
    assert field_errors(response, field)
    assert not Customer.objects.exists()


def test_create_customer_refuses_an_email_taken_in_another_case(staff_client):
    CustomerFactory(email="ann@example.com")
    response = staff_client.post(CREATE, {**GOOD_CUSTOMER, "email": "ANN@example.com"})
    assert field_errors(response, "email") == [
        "Another customer already has this email."
    ]
    assert Customer.objects.count() == 1


def test_create_customer_refuses_a_taken_reference(staff_client):
    CustomerFactory(reference="SHOP-1")
    response = staff_client.post(CREATE, {**GOOD_CUSTOMER, "reference": "SHOP-1"})
    assert field_errors(response, "reference")
    assert Customer.objects.count() == 1


def test_create_customer_needs_something_to_identify_them(staff_client):
    empty = {**GOOD_CUSTOMER, "first_name": "", "last_name": "", "email": ""}
    response = staff_client.post(CREATE, empty)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Customer.objects.exists()


# --- Edit a customer -----------------------------------------------------------


def edit_url(customer) -> str:
    return reverse("customers:edit", args=[customer.pk])


def edit_data(customer, **changes) -> dict:
    data = {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "phone": customer.phone,
        "birthday": customer.birthday.isoformat() if customer.birthday else "",
        "reference": customer.reference,
        "owner": customer.owner_id or "",
        "tags": [t.pk for t in customer.tags.all()],
        "notes": customer.notes,
    }
    if customer.email_opt_in:
        data["email_opt_in"] = "on"
    if customer.sms_opt_in:
        data["sms_opt_in"] = "on"
    data.update(changes)
    return data


def test_edit_customer_saves_the_changes(staff_client, other_staff_user):
    customer = CustomerFactory(first_name="Ann", last_name="Archer")
    vip = TagFactory(name="VIP")
    data = edit_data(
        customer, last_name="Smith", owner=other_staff_user.pk, tags=[vip.pk]
    )
    response = staff_client.post(edit_url(customer), data)
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    customer.refresh_from_db()
    assert customer.last_name == "Smith"
    assert customer.owner == other_staff_user
    assert list(customer.tags.all()) == [vip]


def test_edit_customer_records_a_consent_change(staff_client, staff_user):
    customer = CustomerFactory(email_opt_in=False)
    response = staff_client.post(
        edit_url(customer), edit_data(customer, email_opt_in="on")
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.email_opt_in
    assert customer.email_opt_in_at is not None
    change = ConsentChange.objects.get(customer=customer)
    assert (change.channel, change.opted_in, change.by) == ("email", True, staff_user)


def test_edit_customer_records_an_opt_out(staff_client, staff_user):
    customer = CustomerFactory(sms_opt_in=True)
    data = edit_data(customer)
    del data["sms_opt_in"]
    staff_client.post(edit_url(customer), data)
    customer.refresh_from_db()
    assert not customer.sms_opt_in
    change = ConsentChange.objects.get(customer=customer)
    assert (change.channel, change.opted_in) == ("sms", False)


def test_edit_without_consent_change_records_none(staff_client):
    customer = CustomerFactory(email_opt_in=True)
    staff_client.post(edit_url(customer), edit_data(customer, notes="Moved house"))
    assert not ConsentChange.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("email", "not-an-email"),
        ("email", "ANN@example.com"),
        ("first_name", "x" * 101),
        ("birthday", (timezone.localdate() + timedelta(days=1)).isoformat()),
    ],
)
def test_edit_customer_refuses_bad_input_and_keeps_the_record(
    staff_client, field, value
):
    CustomerFactory(email="ann@example.com")
    customer = CustomerFactory(first_name="Bob", email="bob@example.com")
    before = Customer.objects.values().get(pk=customer.pk)
    data = edit_data(customer, email_opt_in="on", **{field: value})
    response = staff_client.post(edit_url(customer), data)
    assert field_errors(response, field)
    assert Customer.objects.values().get(pk=customer.pk) == before
    assert not ConsentChange.objects.exists()


def test_edit_keeps_a_customers_own_email_in_another_case(staff_client):
    customer = CustomerFactory(email="ann@example.com")
    response = staff_client.post(
        edit_url(customer), edit_data(customer, email="Ann@Example.com")
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.email == "Ann@Example.com"


# --- Log an interaction --------------------------------------------------------


def interaction_url(customer) -> str:
    return reverse("customers:interaction-create", args=[customer.pk])


GOOD_INTERACTION = {"kind": "call", "direction": "outbound", "subject": "Called"}


def test_log_interaction_adds_it_to_the_timeline(staff_client, staff_user):
    customer = CustomerFactory()
    response = staff_client.post(
        interaction_url(customer),
        {**GOOD_INTERACTION, "body": "Wants the blue one"},
    )
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    interaction = Interaction.objects.get()
    assert (interaction.customer, interaction.by) == (customer, staff_user)
    assert (interaction.kind, interaction.subject) == ("call", "Called")
    assert interaction.body == "Wants the blue one"
    customer.refresh_from_db()
    assert customer.last_contact_at == interaction.occurred_at
    assert not FollowUp.objects.exists()


def test_log_interaction_at_a_past_time(staff_client):
    customer = CustomerFactory()
    when = timezone.now() - timedelta(days=2)
    staff_client.post(
        interaction_url(customer), {**GOOD_INTERACTION, "occurred_at": local(when)}
    )
    stored = Interaction.objects.get().occurred_at
    assert abs(stored - when) < timedelta(minutes=1)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"subject": "", "body": ""}, "subject"),
        ({"occurred_at": "tomorrow"}, "occurred_at"),
        ({"occurred_at": tomorrow()}, "occurred_at"),
        ({"kind": "telepathy"}, "kind"),
        ({"subject": "s" * 201}, "subject"),
        ({"follow_up_note": "Call back"}, "follow_up_on"),
    ],
)
def test_log_interaction_refuses_bad_input(staff_client, changes, field):
    customer = CustomerFactory()
    response = staff_client.post(
        interaction_url(customer), {**GOOD_INTERACTION, **changes}
    )
    assert field_errors(response, field)
    assert not Interaction.objects.exists()
    assert not FollowUp.objects.exists()
    customer.refresh_from_db()
    assert customer.last_contact_at is None


def test_log_interaction_with_a_follow_up_for_a_colleague(
    staff_client, staff_user, other_staff_user
):
    customer = CustomerFactory()
    due = timezone.localdate() + timedelta(days=7)
    staff_client.post(
        interaction_url(customer),
        {
            **GOOD_INTERACTION,
            "follow_up_on": due.isoformat(),
            "follow_up_assignee": other_staff_user.pk,
            "follow_up_note": "Send the catalogue",
        },
    )
    follow_up = FollowUp.objects.get()
    assert follow_up.assignee == other_staff_user
    assert (follow_up.due_on, follow_up.note) == (due, "Send the catalogue")
    assert follow_up.origin == Interaction.objects.get()
    assert follow_up.customer == customer


def test_log_interaction_follow_up_is_mine_by_default(staff_client, staff_user):
    customer = CustomerFactory()
    due = timezone.localdate() + timedelta(days=3)
    staff_client.post(
        interaction_url(customer),
        {**GOOD_INTERACTION, "follow_up_on": due.isoformat()},
    )
    assert FollowUp.objects.get().assignee == staff_user


def test_a_note_is_not_contact(staff_client):
    customer = CustomerFactory()
    staff_client.post(
        interaction_url(customer),
        {"kind": "note", "direction": "internal", "subject": "Between us"},
    )
    assert Interaction.objects.get().kind == "note"
    customer.refresh_from_db()
    assert customer.last_contact_at is None


# --- Record a purchase ---------------------------------------------------------


def purchase_url(customer) -> str:
    return reverse("customers:purchase-create", args=[customer.pk])


def test_record_purchase_updates_the_figures(staff_client, staff_user):
    customer = CustomerFactory()
    response = staff_client.post(
        purchase_url(customer), {"amount": "19.90", "reference": "R-1"}
    )
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    purchase = Purchase.objects.get()
    assert (purchase.amount, purchase.reference) == (Decimal("19.90"), "R-1")
    assert purchase.by == staff_user
    staff_client.post(purchase_url(customer), {"amount": "0.10"})
    customer.refresh_from_db()
    assert customer.orders_count == 2
    assert customer.total_spent == Decimal("20.00")
    assert customer.last_purchase_at is not None


def test_record_purchase_in_the_past(staff_client):
    customer = CustomerFactory()
    when = timezone.now() - timedelta(days=10)
    staff_client.post(
        purchase_url(customer), {"amount": "5", "occurred_at": local(when)}
    )
    customer.refresh_from_db()
    assert abs(customer.first_purchase_at - when) < timedelta(minutes=1)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"amount": ""}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "1e30"}, "amount"),
        ({"occurred_at": tomorrow()}, "occurred_at"),
    ],
)
def test_record_purchase_refuses_bad_input(staff_client, changes, field):
    customer = CustomerFactory()
    response = staff_client.post(purchase_url(customer), {"amount": "10", **changes})
    assert field_errors(response, field)
    assert not Purchase.objects.exists()
    customer.refresh_from_db()
    assert (customer.orders_count, customer.total_spent) == (0, Decimal("0"))


def test_record_purchase_again_says_nothing_changed(staff_client):
    customer = CustomerFactory()
    form = {"amount": "10.00", "reference": "R-3"}
    first = staff_client.post(purchase_url(customer), form, follow=True)
    again = staff_client.post(purchase_url(customer), form, follow=True)
    assert [str(m) for m in first.context["messages"]] == ["The purchase was recorded."]
    assert [str(m) for m in again.context["messages"]] == [
        "This order number was recorded already, for this customer and amount: "
        "nothing changed."
    ]
    customer.refresh_from_db()
    assert customer.orders_count == 1


def test_record_purchase_refuses_another_customers_order_number(staff_client):
    other = CustomerFactory()
    services.record_purchase(
        customer=other, amount="10.00", occurred_at=timezone.now(), reference="R-9"
    )
    customer = CustomerFactory()
    response = staff_client.post(
        purchase_url(customer), {"amount": "10.00", "reference": "R-9"}
    )
    assert field_errors(response, "reference")
    assert Purchase.objects.count() == 1
    customer.refresh_from_db()
    assert customer.orders_count == 0


# --- Refund --------------------------------------------------------------------


@pytest.fixture
def purchase():
    customer = CustomerFactory()
    return services.record_purchase(
        customer=customer, amount="50.00", occurred_at=timezone.now()
    )[0]


def refund_url(purchase) -> str:
    return reverse(
        "customers:purchase-refund", args=[purchase.customer_id, purchase.pk]
    )


def test_refund_form_offers_what_is_left(staff_client, purchase):
    response = staff_client.get(refund_url(purchase))
    assert response.context["form"].initial["amount"] == Decimal("50.00")


def test_partial_refund_lowers_total_spent(staff_client, purchase):
    response = staff_client.post(refund_url(purchase), {"amount": "20.00"})
    assert response.status_code == 302
    purchase.refresh_from_db()
    assert purchase.refunded_amount == Decimal("20.00")
    purchase.customer.refresh_from_db()
    assert purchase.customer.total_spent == Decimal("30.00")
    again = staff_client.post(refund_url(purchase), {"amount": "30.00"})
    assert again.status_code == 302
    purchase.customer.refresh_from_db()
    assert purchase.customer.total_spent == Decimal("0.00")


@pytest.mark.parametrize("amount", ["50.01", "0", "-1", "abc", "1.001"])
def test_refund_refuses_bad_amounts(staff_client, purchase, amount):
    response = staff_client.post(refund_url(purchase), {"amount": amount})
    assert field_errors(response, "amount")
    purchase.refresh_from_db()
    assert purchase.refunded_amount == Decimal("0")
    purchase.customer.refresh_from_db()
    assert purchase.customer.total_spent == Decimal("50.00")


def test_refund_refuses_more_than_is_left(staff_client, purchase):
    staff_client.post(refund_url(purchase), {"amount": "45.00"})
    response = staff_client.post(refund_url(purchase), {"amount": "6.00"})
    assert field_errors(response, "amount") == [
        "At most 5.00 of this purchase can still be refunded."
    ]
    purchase.refresh_from_db()
    assert purchase.refunded_amount == Decimal("45.00")


# --- Feedback ------------------------------------------------------------------


def feedback_url(customer) -> str:
    return reverse("customers:feedback-create", args=[customer.pk])


@pytest.mark.parametrize(
    "kind, score", [("csat", 1), ("csat", 5), ("nps", 0), ("nps", 10)]
)
def test_feedback_within_range_is_stored(staff_client, staff_user, kind, score):
    customer = CustomerFactory()
    response = staff_client.post(
        feedback_url(customer), {"kind": kind, "score": score, "comment": "Fine"}
    )
    assert response.status_code == 302
    feedback = Feedback.objects.get()
    assert (feedback.kind, feedback.score, feedback.by) == (kind, score, staff_user)
    assert feedback.customer == customer


@pytest.mark.parametrize(
    "kind, score",
    [("csat", 6), ("csat", 0), ("nps", 11), ("nps", -1), ("csat", "great")],
)
def test_feedback_out_of_range_is_refused(staff_client, kind, score):
    customer = CustomerFactory()
    response = staff_client.post(feedback_url(customer), {"kind": kind, "score": score})
    assert field_errors(response, "score")
    assert not Feedback.objects.exists()


# --- Tags ----------------------------------------------------------------------

TAGS = reverse("customers:tags")


def test_create_tag(staff_client):
    response = staff_client.post(TAGS, {"name": "  VIP "})
    assert response.status_code == 302
    assert response["Location"] == TAGS
    assert Tag.objects.get().name == "VIP"


def test_create_tag_refuses_a_name_taken_in_another_case(staff_client):
    TagFactory(name="VIP")
    response = staff_client.post(TAGS, {"name": "vip"})
    assert response.status_code == 200
    assert field_errors(response, "name") == ["A tag with this name exists."]
    assert list(Tag.objects.values_list("name", flat=True)) == ["VIP"]


def test_create_tag_refuses_an_empty_name(staff_client):
    response = staff_client.post(TAGS, {"name": "   "})
    assert field_errors(response, "name")
    assert not Tag.objects.exists()


def test_rename_tag(staff_client):
    tag = TagFactory(name="Vip")
    response = staff_client.post(
        reverse("customers:tag-edit", args=[tag.pk]), {"name": "VIP"}
    )
    assert response.status_code == 302
    tag.refresh_from_db()
    assert tag.name == "VIP"


def test_rename_tag_refuses_another_tags_name(staff_client):
    TagFactory(name="VIP")
    tag = TagFactory(name="Wholesale")
    response = staff_client.post(
        reverse("customers:tag-edit", args=[tag.pk]), {"name": "vip"}
    )
    assert field_errors(response, "name")
    tag.refresh_from_db()
    assert tag.name == "Wholesale"


def test_tag_delete_asks_first(staff_client):
    tag = TagFactory(name="VIP")
    customer = CustomerFactory()
    customer.tags.add(tag)
    url = reverse("customers:tag-delete", args=[tag.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    assert "Delete VIP?" in response.content.decode()
    assert Tag.objects.filter(pk=tag.pk).exists()

    response = staff_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == TAGS
    assert not Tag.objects.filter(pk=tag.pk).exists()
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert not customer.tags.exists()


# --- Merge ---------------------------------------------------------------------


def merge_url(customer) -> str:
    return reverse("customers:merge", args=[customer.pk])


def test_owner_merges_a_duplicate_and_its_history_moves(owner_client, owner_user):
    keep = CustomerFactory(first_name="Ann", email="ann@example.com", phone="")
    duplicate = CustomerFactory(first_name="Ann", email="", phone="+44 1")
    services.log_interaction(customer=duplicate, kind="call", subject="Old call")
    services.record_purchase(
        customer=duplicate, amount="25.00", occurred_at=timezone.now()
    )
    services.record_feedback(customer=duplicate, kind="csat", score=5)

    response = owner_client.post(
        merge_url(keep), {"other": duplicate.pk, "confirm": "on"}
    )
    assert response.status_code == 302
    assert response["Location"] == keep.get_absolute_url()
    assert not Customer.objects.filter(pk=duplicate.pk).exists()
    assert Interaction.objects.filter(customer=keep, subject="Old call").exists()
    assert Purchase.objects.get().customer == keep
    assert Feedback.objects.get().customer == keep
    keep.refresh_from_db()
    assert (keep.orders_count, keep.total_spent) == (1, Decimal("25.00"))
    assert keep.phone == "+44 1"
    note = Interaction.objects.get(customer=keep, kind="note")
    assert note.by == owner_user


def test_merge_with_itself_is_refused(owner_client):
    customer = CustomerFactory()
    response = owner_client.post(
        merge_url(customer), {"other": customer.pk, "confirm": "on"}
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "A customer cannot be merged with itself."
    ]
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert not Interaction.objects.exists()


def test_merge_needs_confirmation(owner_client):
    keep, duplicate = CustomerFactory(), CustomerFactory()
    response = owner_client.post(merge_url(keep), {"other": duplicate.pk})
    assert field_errors(response, "confirm")
    assert Customer.objects.count() == 2


def test_merge_with_an_unknown_customer_is_refused(owner_client):
    keep = CustomerFactory()
    response = owner_client.post(merge_url(keep), {"other": 999999, "confirm": "on"})
    assert field_errors(response, "other")
    assert Customer.objects.count() == 1
