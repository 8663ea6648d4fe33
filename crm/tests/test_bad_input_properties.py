"""Hostile input to the API and to every page's query string: lone surrogates in
JSON keys and values, NUL bytes, offsets PostgreSQL refuses, absurd dates, line
breaks in one-line fields, far-future creation dates, huge numbers. Each is a
4xx with a message on its field (or a page that says what is wrong), never a
5xx or a traceback, and a refusal changes nothing. Hypothesis then sends
arbitrary values to every writable API field and every GET parameter."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from crm.api.services import create_api_token
from customers.models import Customer, Feedback, Interaction, Purchase
from customers.roles import OWNER
from customers.tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def api(roles):
    user = UserFactory(username="api-owner")
    user.groups.add(Group.objects.get(name=OWNER))
    _, secret = create_api_token(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def customer():
    return CustomerFactory(first_name="Ann", email="ann@example.com")


def rows() -> dict:
    return {
        model.__name__: sorted(model.objects.values_list("pk", flat=True))
        for model in (Customer, Purchase, Interaction, Feedback)
    } | {
        "customer": list(
            Customer.objects.order_by("pk").values(
                "first_name", "email", "total_spent", "orders_count", "created_at"
            )
        )
    }


def post_raw(api, path: str, body: str, method: str = "post"):
    """Send the JSON text as it is (json.dumps would refuse a lone surrogate)."""
    return getattr(api, method)(
        path,
        data=body.encode("utf-8", "surrogatepass"),
        content_type="application/json",
    )


def assert_refused(response, before, field: str | None = None):
    assert 400 <= response.status_code < 500, (response.status_code, response.content)
    assert b"Traceback" not in response.content
    if field is not None:
        assert field in response.json(), response.json()
    assert rows() == before


@pytest.mark.parametrize(
    "body",
    [
        '{"first_name": "\\ud800", "email": "x@example.com"}',
        '{"first_name": "Ann\\udfff", "email": "x@example.com"}',
        '{"\\ud800": "x", "email": "x@example.com"}',
        '{"email": "x@example.com", "\\udc00\\ud800": 1}',
    ],
)
def test_lone_surrogates_in_json_are_a_400(api, customer, body):
    before = rows()
    response = post_raw(api, "/api/v1/customers/", body)
    assert_refused(response, before)
    # The message that names the bad key can itself be encoded.
    json.dumps(response.json())


def test_a_lone_surrogate_in_an_update_is_a_400(api, customer):
    before = rows()
    response = post_raw(
        api, f"/api/v1/customers/{customer.pk}/", '{"last_name": "\\ud83d"}', "patch"
    )
    assert_refused(response, before)
    assert '"last_name" holds a lone UTF-16 surrogate' in response.json()["detail"]


def test_a_nul_byte_in_api_text_is_a_field_error(api, customer):
    before = rows()
    response = api.post(
        f"/api/v1/customers/{customer.pk}/interactions/",
        {"kind": "call", "subject": "a\x00b"},
        format="json",
    )
    assert_refused(response, before, "subject")


@pytest.mark.parametrize(
    "moment", ["2024-05-01T10:00:00+16:00", "2024-05-01T10:00:00-23:59"]
)
@pytest.mark.parametrize(
    "path", ["purchases/", "interactions/", "feedback/"], ids=lambda p: p.strip("/")
)
def test_offsets_postgresql_refuses_are_field_errors(api, customer, moment, path):
    before = rows()
    body = {
        "purchases/": {"amount": "5.00"},
        "interactions/": {"kind": "call"},
        "feedback/": {"kind": "csat", "score": 4},
    }[path] | {"occurred_at": moment}
    response = api.post(f"/api/v1/customers/{customer.pk}/{path}", body, format="json")
    assert_refused(response, before, "occurred_at")


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_absurd_purchase_dates_are_field_errors(api, customer, moment):
    before = rows()
    response = api.post(
        f"/api/v1/customers/{customer.pk}/purchases/",
        {"occurred_at": moment, "amount": "5.00"},
        format="json",
    )
    assert_refused(response, before, "occurred_at")


@pytest.mark.parametrize("field", ["reference", "channel"])
@pytest.mark.parametrize("text", ["A\nB", "A\rB", "A\u2028B"])
def test_line_breaks_in_a_purchase_reference_or_channel_are_refused(
    api, customer, field, text
):
    before = rows()
    response = api.post(
        f"/api/v1/customers/{customer.pk}/purchases/",
        {"amount": "5.00", field: text},
        format="json",
    )
    assert_refused(response, before, field)


@pytest.mark.parametrize(
    "created_at", ["2999-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00Z"]
)
def test_a_customer_created_in_the_far_future_or_past_is_refused(api, created_at):
    before = rows()
    response = api.post(
        "/api/v1/customers/",
        {"email": "new@example.com", "created_at": created_at},
        format="json",
    )
    assert_refused(response, before, "created_at")


@pytest.mark.parametrize(
    "amount", ["1e400", "NaN", "Infinity", "-0", 10**30, "1" * 400, 1e308]
)
def test_huge_or_odd_amounts_are_field_errors(api, customer, amount):
    before = rows()
    response = api.post(
        f"/api/v1/customers/{customer.pk}/purchases/",
        {"amount": amount},
        format="json",
    )
    if response.status_code == 201:  # -0 is a valid zero-amount purchase
        assert amount == "-0"
        return
    assert_refused(response, before, "amount")


DASHBOARD_PAGES = [
    "/dashboard/",
    "/dashboard/csv/trend.csv",
    "/dashboard/customers/at-risk/",
    "/loyalty/",
]
ABSURD_QUERIES = [
    "period=custom&start=0001-01-01&end=0001-01-31",
    "period=custom&start=9999-12-01&end=9999-12-31",
    "period=custom&start=0001-01-01&end=9999-12-31",
    "as_of=0001-01-01",
    "as_of=9999-12-31",
    "period=year&as_of=9999-12-31",
    "period=week&as_of=0001-01-01",
    "start=0001-01-01&end=9999-12-31",
    "window=99999999999999999999",
    "page=99999999999999999999999",
]


@pytest.mark.parametrize("query", ABSURD_QUERIES)
@pytest.mark.parametrize("page", DASHBOARD_PAGES)
def test_absurd_dates_in_dashboard_and_loyalty_query_strings_are_never_a_500(
    owner_client, page, query
):
    response = owner_client.get(f"{page}?{query}")
    assert response.status_code in (200, 400, 404), response.status_code
    assert b"Traceback" not in response.content


# --- arbitrary values --------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
surrogate_text = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=20
)

CUSTOMER_FIELDS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "birthday",
    "reference",
    "notes",
    "created_at",
    "email_opt_in",
    "sms_opt_in",
    "tags",
    "owner",
]
ENDPOINT_FIELDS = {
    "customers/": CUSTOMER_FIELDS,
    "purchases/": ["amount", "occurred_at", "currency", "reference", "channel"],
    "interactions/": ["kind", "direction", "subject", "body", "occurred_at"],
    "feedback/": ["kind", "score", "comment", "occurred_at"],
}
VALID = {
    "customers/": {"email": "new@example.com"},
    "purchases/": {"amount": "5.00"},
    "interactions/": {"kind": "call"},
    "feedback/": {"kind": "csat", "score": 4},
}
endpoint_and_field = st.sampled_from(
    [
        (endpoint, field)
        for endpoint, fields in ENDPOINT_FIELDS.items()
        for field in fields
    ]
)


def body_with(endpoint: str, field: str, value) -> str:
    body = dict(VALID[endpoint])
    body[field] = value
    # ensure_ascii writes a lone surrogate as \ud800, which a client may send.
    return json.dumps(body, ensure_ascii=True, allow_nan=True)


def assert_no_server_error(response, before) -> None:
    assert response.status_code < 500, response.content[:500]
    assert b"Traceback" not in response.content
    if response.status_code >= 400:
        assert rows() == before


@HYPOTHESIS
@given(target=endpoint_and_field, value=json_values | surrogate_text)
def test_any_value_in_any_api_field_is_stored_or_refused(api, customer, target, value):
    endpoint, field = target
    path = (
        "/api/v1/customers/"
        if endpoint == "customers/"
        else f"/api/v1/customers/{customer.pk}/{endpoint}"
    )
    before = rows()
    response = post_raw(api, path, body_with(endpoint, field, value))
    assert_no_server_error(response, before)
    if endpoint == "customers/":
        before = rows()
        response = post_raw(
            api,
            f"/api/v1/customers/{customer.pk}/",
            body_with("customers/", field, value),
            "patch",
        )
        assert_no_server_error(response, before)
    Customer.objects.exclude(pk=customer.pk).delete()
    Purchase.objects.all().delete()
    Interaction.objects.all().delete()
    Feedback.objects.all().delete()


GET_PARAMETERS = {
    "/dashboard/": ["period", "as_of", "start", "end", "window", "contact_days"],
    "/dashboard/customers/at-risk/": ["period", "as_of", "window", "page", "key"],
    "/loyalty/": ["period", "start", "end", "as_of"],
    "/customers/": ["q", "sort", "page", "tag", "owner", "days", "consent"],
    "/api/v1/customers/": ["search", "page", "page_size"],
}
page_and_parameter = st.sampled_from(
    [(page, name) for page, names in GET_PARAMETERS.items() for name in names]
)
query_values = st.one_of(
    surrogate_text.map(lambda t: t.encode("utf-8", "surrogatepass").hex()),
    st.text(max_size=20),
    st.integers().map(str),
    st.dates().map(str),
    st.sampled_from(["0001-01-01", "9999-12-31", "-1", "1e999", "%00", "\x00"]),
)


@HYPOTHESIS
@given(target=page_and_parameter, value=query_values)
def test_any_value_in_any_query_parameter_is_never_a_server_error(
    owner_client, api, target, value
):
    page, name = target
    client = api if page.startswith("/api/") else owner_client
    response = client.get(page, {name: value})
    assert response.status_code < 500, (page, name, value)
    assert b"Traceback" not in response.content
