"""The customer list: search, filters, sorts, pages, empty states, query counts."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import SavedSegment
from customers.tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db

LIST = reverse("customers:list")


def names_on(response) -> list[str]:
    return [c.full_name for c in response.context["customers"]]


def first_names_on(response) -> list[str]:
    return [c.first_name for c in response.context["customers"]]


def customer(*, tags=(), **fields):
    made = CustomerFactory(**fields)
    made.tags.set(tags)
    return made


def days_ago(days: int):
    return timezone.now() - timedelta(days=days)


def test_list_shows_customers(staff_client):
    CustomerFactory(first_name="Ann", last_name="Archer", email="ann@example.com")
    CustomerFactory(first_name="Bob", last_name="Baker")
    response = staff_client.get(LIST)
    assert response.status_code == 200
    assert names_on(response) == ["Ann Archer", "Bob Baker"]
    assert "ann@example.com" in response.content.decode()
    assert "2 customers" in response.content.decode()


@pytest.mark.parametrize("query", ["aberg", "ÅBERG", "zoe", "Zoë", "oe Ab", "berg"])
def test_search_is_partial_and_ignores_case_and_accents(staff_client, query):
    CustomerFactory(first_name="Zoë", last_name="Åberg")
    CustomerFactory(first_name="Bob", last_name="Baker")
    response = staff_client.get(LIST, {"q": query})
    assert names_on(response) == ["Zoë Åberg"]
    assert "Bob Baker" not in response.content.decode()


def test_search_finds_email_and_phone(staff_client):
    CustomerFactory(first_name="Ann", email="ann.archer@example.com", phone="+1 555")
    CustomerFactory(first_name="Bob", phone="+44 20 7946 0000")
    assert first_names_on(staff_client.get(LIST, {"q": "ARCHER@"})) == ["Ann"]
    assert first_names_on(staff_client.get(LIST, {"q": "7946"})) == ["Bob"]


def test_tag_filter(staff_client):
    vip = TagFactory(name="VIP")
    customer(first_name="Ann", tags=[vip])
    customer(first_name="Bob", tags=[TagFactory(name="Wholesale")])
    CustomerFactory(first_name="Cid")
    assert first_names_on(staff_client.get(LIST, {"tag": vip.pk})) == ["Ann"]


def test_owner_filter(staff_client, staff_user, other_staff_user):
    CustomerFactory(first_name="Ann", owner=staff_user)
    CustomerFactory(first_name="Bob", owner=other_staff_user)
    CustomerFactory(first_name="Cid")
    assert first_names_on(staff_client.get(LIST, {"owner": staff_user.pk})) == ["Ann"]


def test_no_contact_filter_counts_the_never_contacted_from_joining(staff_client):
    CustomerFactory(first_name="Long ago", last_contact_at=days_ago(40))
    CustomerFactory(first_name="Recently", last_contact_at=days_ago(5))
    CustomerFactory(first_name="Never, old", created_at=days_ago(40))
    CustomerFactory(first_name="Never, new", created_at=days_ago(2))
    response = staff_client.get(LIST, {"no_contact_days": 30})
    assert sorted(first_names_on(response)) == ["Long ago", "Never, old"]


def test_no_purchase_filter_keeps_past_buyers_only(staff_client):
    CustomerFactory(first_name="Lapsed", last_purchase_at=days_ago(60))
    CustomerFactory(first_name="Recent", last_purchase_at=days_ago(5))
    CustomerFactory(first_name="Never bought")
    assert first_names_on(staff_client.get(LIST, {"no_purchase_days": 30})) == [
        "Lapsed"
    ]


def test_opted_in_filter_needs_consent_and_an_address(staff_client):
    CustomerFactory(first_name="Yes", email_opt_in=True)
    CustomerFactory(first_name="No", email_opt_in=False)
    CustomerFactory(first_name="No address", email="", email_opt_in=True)
    CustomerFactory(first_name="Sms only", sms_opt_in=True)
    assert first_names_on(staff_client.get(LIST, {"opted_in": "email"})) == ["Yes"]


def test_filters_combine(staff_client, staff_user):
    vip = TagFactory(name="VIP")
    customer(first_name="Ann", owner=staff_user, tags=[vip])
    customer(first_name="Amy", tags=[vip])
    CustomerFactory(first_name="Abe", owner=staff_user)
    response = staff_client.get(LIST, {"tag": vip.pk, "owner": staff_user.pk})
    assert first_names_on(response) == ["Ann"]


def test_sort_by_total_spent_highest_first(staff_client):
    for name, spent in [("Low", "5.00"), ("High", "500.00"), ("Middle", "50.00")]:
        CustomerFactory(first_name=name, total_spent=Decimal(spent))
    response = staff_client.get(LIST, {"sort": "-total_spent"})
    assert first_names_on(response) == ["High", "Middle", "Low"]
    response = staff_client.get(LIST, {"sort": "total_spent"})
    assert first_names_on(response) == ["Low", "Middle", "High"]


def test_default_sort_is_by_last_then_first_name(staff_client):
    CustomerFactory(first_name="Bea", last_name="Zeller")
    CustomerFactory(first_name="Cal", last_name="Adams")
    CustomerFactory(first_name="Abe", last_name="Adams")
    assert names_on(staff_client.get(LIST)) == ["Abe Adams", "Cal Adams", "Bea Zeller"]


def test_fifty_a_page_and_a_second_page(staff_client):
    for i in range(51):
        CustomerFactory(first_name=f"Customer {i:02d}", last_name="Same")
    first = staff_client.get(LIST)
    assert len(first.context["customers"]) == 50
    assert first.context["page_obj"].paginator.num_pages == 2
    assert "Page 1 of 2" in first.content.decode()
    second = staff_client.get(LIST, {"page": 2})
    assert names_on(second) == ["Customer 50 Same"]


def test_pages_keep_the_filters(staff_client):
    vip = TagFactory(name="VIP")
    for i in range(51):
        customer(first_name=f"Customer {i:02d}", tags=[vip])
    CustomerFactory(first_name="Untagged")
    response = staff_client.get(LIST, {"tag": vip.pk})
    assert f"?tag={vip.pk}&amp;page=2" in response.content.decode()
    second = staff_client.get(LIST, {"tag": vip.pk, "page": 2})
    assert len(second.context["customers"]) == 1
    assert "Untagged" not in first_names_on(second)


def test_empty_list_invites_to_add_the_first_customer(staff_client):
    response = staff_client.get(LIST)
    assert "No customers yet" in response.content.decode()
    assert "No customer matches" not in response.content.decode()


def test_no_match_says_so(staff_client):
    CustomerFactory(first_name="Ann")
    response = staff_client.get(LIST, {"q": "nobody-has-this-name"})
    assert "No customer matches" in response.content.decode()
    assert "No customers yet" not in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"no_contact_days": "abc"},
        {"no_purchase_days": "-3"},
        {"no_contact_days": "99999999999999999999"},
        {"tag": "99999"},
        {"tag": "not-a-number"},
        {"owner": "99999"},
        {"opted_in": "fax"},
        {"sort": "bogus"},
        {"q": "x" * 500},
        {"q": "%_\\'"},
    ],
)
def test_bad_filter_input_does_not_crash(staff_client, params):
    CustomerFactory(first_name="Ann")
    response = staff_client.get(LIST, params)
    assert response.status_code == 200


def test_bad_filter_is_ignored_not_applied(staff_client):
    CustomerFactory(first_name="Ann")
    response = staff_client.get(LIST, {"tag": "99999", "sort": "bogus"})
    assert first_names_on(response) == ["Ann"]


def test_page_past_the_end_is_not_found(staff_client):
    CustomerFactory()
    assert staff_client.get(LIST, {"page": 9}).status_code == 404


def make_customers(count: int, owner) -> None:
    tags = [TagFactory(), TagFactory()]
    for _ in range(count):
        customer(owner=owner, tags=tags)


# Queries for one page, whatever the number of rows on it:
#   1 session (only when the cache misses it)
#   1 user with their groups                            (authentication, role)
#   1 COUNT of the filtered customers                   (paginator)
#   1 the page of customers JOIN owner                  (as light rows)
#   1 the tags of those customers
#   1 tags + 1 users                                    (the filter form's selects)
#   1 saved segments + 1 due follow-ups                 (navigation bar)
# = 9
LIST_QUERIES = 9


@pytest.mark.parametrize("rows", [5, 60])
def test_list_queries_do_not_grow_with_rows(
    staff_client, staff_user, django_assert_max_num_queries, rows
):
    make_customers(rows, staff_user)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = staff_client.get(LIST)
    assert len(response.context["customers"]) == min(rows, 50)


def test_filtered_list_queries_do_not_grow_with_rows(
    staff_client, staff_user, django_assert_max_num_queries
):
    make_customers(60, staff_user)
    tag = TagFactory()
    for customer in CustomerFactory.create_batch(3):
        customer.tags.add(tag)
    # The same 9, + 1 for the filter form to check that the owner exists.
    with django_assert_max_num_queries(LIST_QUERIES + 1):
        response = staff_client.get(
            LIST, {"q": "example", "owner": staff_user.pk, "page": 2}
        )
    assert len(response.context["customers"]) == 10


def test_list_rows_escape_what_staff_typed(staff_client):
    customer = CustomerFactory(
        first_name='<script>alert("x")</script>', email="a&b@example.com"
    )
    customer.tags.add(TagFactory(name="<b>VIP</b>"))
    page = staff_client.get(LIST).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;b&gt;VIP&lt;/b&gt;" in page
    assert "a&amp;b@example.com" in page
    assert f'href="/customers/{customer.pk}/"' in page


def test_filter_fields_keep_what_was_asked_escaped_and_name_bad_values(staff_client):
    tag = TagFactory(name='<i>"Local"</i>')
    page = staff_client.get(
        LIST, {"q": '"><script>x</script>', "tag": tag.pk, "no_contact_days": "abc"}
    ).content.decode()
    start = page.index('<form method="get"')
    form = page[start : page.index("</form>", start)]
    assert "<script>x" not in form and "<i>" not in form
    assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in form
    assert (
        f'<option value="{tag.pk}" selected>&lt;i&gt;&quot;Local&quot;&lt;/i&gt;'
        in form
    )
    assert 'id="id_no_contact_days" value="abc" class="form-control ' in form
    assert "form-control-sm is-invalid" in form
    assert '<div class="invalid-feedback d-block">Enter a whole number.</div>' in form
    assert '<option value="" selected>Anyone</option>' in form


def test_new_tags_and_segments_show_on_the_next_page(staff_client, staff_user):
    """The filter's tags and the nav's segments are read afresh on every page."""
    assert "Newcomers" not in staff_client.get(LIST).content.decode()
    tag = TagFactory(name="Newcomers")
    SavedSegment.objects.create(name="Lapsed VIPs", params={}, created_by=staff_user)
    page = staff_client.get(LIST).content.decode()
    assert f'<option value="{tag.pk}">Newcomers</option>' in page
    assert ">Lapsed VIPs</a>" in page


def test_list_rows_name_customers_as_their_page_does(staff_client, staff_user):
    """The list reads light rows (ListedCustomer), named by Customer's own rule."""
    named = CustomerFactory(first_name="Ana", last_name="Lima", owner=staff_user)
    unnamed = CustomerFactory(first_name="", last_name="", email="x@example.com")
    rows = {c.pk: c for c in staff_client.get(LIST).context["customers"]}
    assert rows[named.pk].full_name == named.full_name == "Ana Lima"
    assert rows[unnamed.pk].full_name == unnamed.full_name == "x@example.com"
    assert rows[named.pk].owner_username == staff_user.username
    assert rows[unnamed.pk].owner_id is None


def test_list_rows_show_days_in_the_business_time_zone(staff_client, settings):
    """The rows' days are written as the row is made (ListedCustomer), in the
    time zone of the request, and "never" where there is none."""
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+5:30
    late_evening_utc = datetime(2024, 3, 1, 20, 45, tzinfo=UTC)
    made = CustomerFactory(
        last_purchase_at=late_evening_utc,
        last_contact_at=None,
        created_at=late_evening_utc - timedelta(days=30),
        orders_count=1234,
        total_spent=Decimal("12345.50"),
    )
    page = staff_client.get(LIST).content.decode()
    row = page[page.index(f'href="/customers/{made.pk}/"') :]
    row = row[: row.index("</tr>")]
    assert (
        '<td class="text-end">1234</td><td class="text-end">12345.50</td>'
        "<td>2024-03-02</td><td>never</td><td>2024-02-01</td>"
    ) in row
