"""Finding customers: search, the list's filters and sorts, segments, follow-ups."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers import services
from customers.filters import (
    SORTS,
    filter_customers,
    list_customers,
    segment_customers,
)
from customers.models import Customer, FollowUp
from customers.tests.factories import (
    CustomerFactory,
    InteractionFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def days_ago(days: float):
    return NOW - timedelta(days=days)


def found(params: dict) -> set[str]:
    """First names of the customers the filters select, as a segment would."""
    return set(
        filter_customers(Customer.objects.all(), params).values_list(
            "first_name", flat=True
        )
    )


def search(query: str) -> set[str]:
    return found({"q": query})


# Search


@pytest.fixture
def people():
    CustomerFactory(
        first_name="Joanna",
        last_name="Lee",
        email="jo.lee@example.org",
        phone="+44 7700 900123",
    )
    CustomerFactory(
        first_name="Zoë", last_name="Brontë", email="zb@example.com", phone=""
    )
    CustomerFactory(
        first_name="Zoe", last_name="Smith", email="zs@example.com", phone=""
    )
    CustomerFactory(
        first_name="Bob",
        last_name="Marsh",
        email="bob@shop.test",
        phone="020 7946 0000",
    )


def test_search_finds_a_partial_name(people):
    assert search("ann") == {"Joanna"}


def test_search_ignores_letter_case(people):
    assert search("JOANNA") == {"Joanna"}
    assert search("mArSh") == {"Bob"}


def test_search_without_accent_finds_the_accented_name(people):
    assert search("zoe") == {"Zoë", "Zoe"}
    assert search("bronte") == {"Zoë"}


def test_search_with_accent_finds_the_plain_name(people):
    assert search("zoë") == {"Zoë", "Zoe"}
    assert search("ZOË SMITH") == {"Zoe"}


def test_search_needs_every_word_to_match(people):
    assert search("zoe smith") == {"Zoe"}
    assert search("joanna smith") == set()


def test_search_finds_part_of_an_email(people):
    assert search("example.org") == {"Joanna"}
    assert search("bob@shop") == {"Bob"}


@pytest.mark.parametrize(
    "query",
    [
        "07700 900",
        "07700 900123",
        "(07700) 900-123",
        "7700 900123",
        "7700900",
        "+44 7700 900123",
        "+447700900123",
        "0044 7700 900123",
        "900123",
    ],
)
def test_search_finds_a_phone_number_however_it_is_formatted(people, query):
    assert search(query) == {"Joanna"}


def test_search_by_phone_does_not_match_other_digits(people):
    assert search("07700 900124") == set()
    assert search("020 7946 0000") == {"Bob"}


def test_search_for_nothing_matches_everyone(people):
    assert search("") == search("   ") == {"Joanna", "Zoë", "Zoe", "Bob"}


def test_search_treats_like_wildcards_literally(people):
    assert search("%") == set()
    assert search("j_") == set()


def test_search_follows_a_renamed_customer():
    customer = CustomerFactory(first_name="Ann")
    services.update_customer(customer=customer, first_name="Hélène")
    assert search("helene") == {"Hélène"}
    assert search("ann") == set()


# Filters


def test_tag_filter_keeps_only_tagged_customers():
    vip = TagFactory(name="VIP")
    CustomerFactory(first_name="Ann").tags.add(vip)
    CustomerFactory(first_name="Bob").tags.add(TagFactory())
    CustomerFactory(first_name="Cy")
    assert found({"tag": vip.pk}) == {"Ann"}


def test_owner_filter_keeps_only_that_owners_customers():
    sam, alex = UserFactory(), UserFactory()
    CustomerFactory(first_name="Ann", owner=sam)
    CustomerFactory(first_name="Bob", owner=alex)
    CustomerFactory(first_name="Cy", owner=None)
    assert found({"owner": sam.pk}) == {"Ann"}


def test_no_contact_filter_counts_never_contacted_customers_from_joining():
    CustomerFactory(
        first_name="Old call", created_at=days_ago(400), last_contact_at=days_ago(40)
    )
    CustomerFactory(
        first_name="Recent call", created_at=days_ago(400), last_contact_at=days_ago(5)
    )
    CustomerFactory(first_name="Never, long ago", created_at=days_ago(40))
    CustomerFactory(first_name="Never, new", created_at=days_ago(5))
    assert found({"no_contact_days": 30}) == {"Old call", "Never, long ago"}


def test_no_purchase_filter_keeps_past_buyers_who_stopped():
    CustomerFactory(first_name="Lapsed", last_purchase_at=days_ago(120))
    CustomerFactory(first_name="Active", last_purchase_at=days_ago(3))
    CustomerFactory(first_name="Never bought")
    assert found({"no_purchase_days": 90}) == {"Lapsed"}


def test_opted_in_filter_needs_consent_and_somewhere_to_send():
    CustomerFactory(first_name="Email", email_opt_in=True)
    CustomerFactory(first_name="No address", email="", email_opt_in=True)
    CustomerFactory(first_name="No consent", email_opt_in=False, sms_opt_in=True)
    CustomerFactory(first_name="No phone", phone="", sms_opt_in=True)
    assert found({"opted_in": "email"}) == {"Email"}
    assert found({"opted_in": "sms"}) == {"No consent"}


def test_filters_combine():
    vip = TagFactory()
    sam = UserFactory()
    for name, owner, contact in [
        ("Both", sam, days_ago(60)),
        ("Wrong owner", None, days_ago(60)),
        ("Recent", sam, days_ago(1)),
    ]:
        customer = CustomerFactory(
            first_name=name, owner=owner, last_contact_at=contact
        )
        customer.tags.add(vip)
    assert found({"tag": vip.pk, "owner": sam.pk, "no_contact_days": 30}) == {"Both"}


def test_no_filters_match_everyone():
    CustomerFactory(first_name="Ann")
    CustomerFactory(first_name="Bob")
    assert found({}) == {"Ann", "Bob"}


@pytest.mark.parametrize(
    "params",
    [{"no_contact_days": "soon"}, {"no_contact_days": 0}, {"opted_in": "fax"}],
)
def test_a_filter_that_no_longer_applies_matches_nobody(params):
    CustomerFactory(first_name="Ann")
    assert found(params) == set()


def test_the_list_page_ignores_a_bad_filter_and_reports_it():
    CustomerFactory(first_name="Ann")
    form, customers = list_customers({"no_contact_days": "soon"})
    assert "no_contact_days" in form.errors
    assert [c.first_name for c in customers] == ["Ann"]


# Sorting


@pytest.fixture
def three():
    """Adams, Brown and Clark, each first or last on a different sort."""
    CustomerFactory(
        first_name="A",
        last_name="Adams",
        total_spent=Decimal("50.00"),
        created_at=days_ago(30),
        last_contact_at=days_ago(1),
        last_purchase_at=days_ago(5),
    )
    CustomerFactory(
        first_name="B",
        last_name="Brown",
        total_spent=Decimal("10.00"),
        created_at=days_ago(10),
        last_contact_at=None,
        last_purchase_at=days_ago(2),
    )
    CustomerFactory(
        first_name="C",
        last_name="Clark",
        total_spent=Decimal("30.00"),
        created_at=days_ago(20),
        last_contact_at=days_ago(9),
        last_purchase_at=None,
    )


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("name", "ABC"),
        ("-name", "CBA"),
        # Never contacted: last when recent contact comes first, and first when
        # the longest-waiting come first (as on "needs follow-up").
        ("-last_contact", "ACB"),
        ("last_contact", "BCA"),
        ("-last_purchase", "BAC"),
        ("last_purchase", "ABC"),
        ("-total_spent", "ACB"),
        ("total_spent", "BCA"),
        ("-created", "BCA"),
        ("created", "ACB"),
        ("no-such-sort", "ABC"),
        ("", "ABC"),
    ],
)
def test_each_sort_order_lists_customers_in_that_order(three, sort, order):
    _, customers = list_customers({"sort": sort})
    assert "".join(c.first_name for c in customers) == order


def test_every_sort_offered_is_tested():
    tested = {"name", "-name", "-last_contact", "last_contact", "-last_purchase"}
    tested |= {"last_purchase", "-total_spent", "total_spent", "-created", "created"}
    assert set(SORTS) == tested


def test_equal_values_sort_by_id_so_pages_are_stable():
    first = CustomerFactory(total_spent=Decimal("10.00"))
    second = CustomerFactory(total_spent=Decimal("10.00"))
    _, ascending = list_customers({"sort": "total_spent"})
    _, descending = list_customers({"sort": "-total_spent"})
    assert list(ascending) == [first, second]
    assert list(descending) == [second, first]


def test_list_customers_filters_and_sorts_together():
    vip = TagFactory()
    for name, spent in [("Low", "5.00"), ("High", "500.00"), ("Mid", "50.00")]:
        CustomerFactory(first_name=name, total_spent=Decimal(spent)).tags.add(vip)
    CustomerFactory(first_name="Untagged", total_spent=Decimal("900.00"))
    _, customers = list_customers({"tag": str(vip.pk), "sort": "-total_spent"})
    assert [c.first_name for c in customers] == ["High", "Mid", "Low"]


# Saved segments


def test_segment_picks_up_a_customer_tagged_after_it_was_saved():
    vip = TagFactory()
    CustomerFactory(first_name="Ann").tags.add(vip)
    later = CustomerFactory(first_name="Bob")
    segment = services.save_segment(
        name="VIPs", params={"tag": vip.pk}, by=UserFactory()
    )
    assert {c.first_name for c in segment_customers(segment)} == {"Ann"}

    later.tags.add(vip)

    assert {c.first_name for c in segment_customers(segment)} == {"Ann", "Bob"}


def test_segment_drops_a_customer_once_contacted():
    waiting = CustomerFactory(first_name="Ann", created_at=days_ago(90))
    CustomerFactory(first_name="Bob", created_at=days_ago(90))
    segment = services.save_segment(
        name="Nobody called", params={"no_contact_days": 30}, by=UserFactory()
    )
    assert {c.first_name for c in segment_customers(segment)} == {"Ann", "Bob"}

    services.log_interaction(customer=waiting, kind="call")

    assert {c.first_name for c in segment_customers(segment)} == {"Bob"}


def test_segment_is_not_left_out_by_a_note():
    waiting = CustomerFactory(first_name="Ann", created_at=days_ago(90))
    segment = services.save_segment(
        name="Nobody called", params={"no_contact_days": 30}, by=UserFactory()
    )
    services.log_interaction(customer=waiting, kind="note")
    assert {c.first_name for c in segment_customers(segment)} == {"Ann"}


def test_segment_whose_tag_was_deleted_matches_nobody_not_everybody():
    vip = TagFactory()
    CustomerFactory(first_name="Ann").tags.add(vip)
    CustomerFactory(first_name="Bob")
    segment = services.save_segment(
        name="VIPs", params={"tag": vip.pk}, by=UserFactory()
    )

    services.delete_tag(tag=vip)

    assert list(segment_customers(segment)) == []


# Follow-ups


def test_open_follow_ups_assigned_to_a_user_due_by_today():
    sam, alex = UserFactory(), UserFactory()
    today = timezone.localdate()
    origin = InteractionFactory()

    def follow_up(note, assignee, due_in_days, done=False):
        return FollowUp.objects.create(
            customer=origin.customer,
            origin=origin,
            assignee=assignee,
            due_on=today + timedelta(days=due_in_days),
            note=note,
            completed_at=timezone.now() if done else None,
        )

    overdue = follow_up("overdue", sam, -3)
    due_today = follow_up("today", sam, 0)
    follow_up("tomorrow", sam, 1)
    follow_up("done", sam, -1, done=True)
    follow_up("alex's", alex, -1)

    mine = FollowUp.objects.open().assigned_to(sam).due_by(today)

    assert list(mine) == [overdue, due_today]
    assert FollowUp.objects.open().assigned_to(sam).count() == 3


@pytest.mark.parametrize(
    ("query", "sort", "expected"),
    [
        # Three letters or more: sorted on an expression (see filters.Unindexed).
        ("smit", "name", ["Ann Smith", "Bob Smith", "Cat Smithers"]),
        ("smit", "-name", ["Cat Smithers", "Bob Smith", "Ann Smith"]),
        # Shorter: the plain indexed order; the result must be the same order.
        ("sm", "name", ["Ann Smith", "Bob Smith", "Cat Smithers"]),
    ],
)
def test_search_results_sort_by_name_either_way(query, sort, expected):
    for first, last in [("Cat", "Smithers"), ("Bob", "Smith"), ("Ann", "Smith")]:
        CustomerFactory(first_name=first, last_name=last)
    CustomerFactory(first_name="Dan", last_name="Jones")
    _, customers = list_customers({"q": query, "sort": sort})
    assert [f"{c.first_name} {c.last_name}" for c in customers] == expected
