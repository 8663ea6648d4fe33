"""Bad input on the customers pages and the API: forged CSRF tokens and
Origins, over-long fields, NUL bytes, invalid Unicode, huge query strings,
absurd page numbers and ids of other records. Each is a 4xx or a form error,
never a 500, and changes nothing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from crm.api.services import create_api_token
from crm.models import ApiToken, SecuritySettings, TeamMember
from customers import services
from customers.models import (
    ConsentChange,
    Customer,
    ErasureRecord,
    Feedback,
    FollowUp,
    Interaction,
    Purchase,
    SavedSegment,
    Tag,
)
from customers.roles import OWNER
from customers.tests import test_views_access as access
from customers.tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
world = access.world  # one of everything a customers URL can name

MODELS = (
    Customer,
    Interaction,
    Purchase,
    Feedback,
    FollowUp,
    ConsentChange,
    ErasureRecord,
    Tag,
    SavedSegment,
    ApiToken,
    SecuritySettings,
    User,
    User.groups.through,
    TeamMember,
)


# Bookkeeping that any authenticated API call updates.
NOT_COMPARED = {"last_used_at"}


def snapshot() -> dict:
    """Every row of every table a form could change."""
    return {
        model.__name__: sorted(
            map(
                repr,
                model.objects.values_list(
                    *[
                        f.attname
                        for f in model._meta.concrete_fields
                        if f.attname not in NOT_COMPARED
                    ]
                ),
            )
        )
        for model in MODELS
    }


@pytest.fixture
def more(world, owner_user):
    """A second customer with a purchase, and an API token to revoke."""
    other = CustomerFactory(first_name="Other")
    purchase, _ = services.record_purchase(
        customer=other, amount="20.00", occurred_at=timezone.now()
    )
    token, _ = create_api_token(user=owner_user, name="Till")
    member = UserFactory(username="member")
    member.groups.add(Group.objects.get(name="Staff"))
    return SimpleNamespace(
        other=other,
        other_purchase=purchase,
        token=token,
        member=member,
        gone=UserFactory(username="gone", is_active=False),
    )


# name -> (URL arguments, a valid form)
POSTS = {
    "customers:create": (
        lambda w, m: [],
        lambda w, m: {"last_name": "New", "email": "new@example.com"},
    ),
    "customers:edit": (
        lambda w, m: [w.customer.pk],
        lambda w, m: {"last_name": "Changed", "email": w.customer.email},
    ),
    "customers:interaction-create": (
        lambda w, m: [w.customer.pk],
        lambda w, m: {"kind": "call", "direction": "outbound", "subject": "Hi"},
    ),
    "customers:purchase-create": (
        lambda w, m: [w.customer.pk],
        lambda w, m: {"amount": "10.00"},
    ),
    "customers:purchase-refund": (
        lambda w, m: [w.customer.pk, w.purchase.pk],
        lambda w, m: {"amount": "1.00"},
    ),
    "customers:feedback-create": (
        lambda w, m: [w.customer.pk],
        lambda w, m: {"kind": "csat", "score": "4", "comment": "Fine"},
    ),
    "customers:follow-up-complete": (
        lambda w, m: [w.follow_up.pk],
        lambda w, m: {"kind": "call", "direction": "outbound", "subject": "Done"},
    ),
    "customers:tags": (lambda w, m: [], lambda w, m: {"name": "Fresh"}),
    "customers:tag-edit": (lambda w, m: [w.tag.pk], lambda w, m: {"name": "Renamed"}),
    "customers:tag-delete": (lambda w, m: [w.tag.pk], lambda w, m: {}),
    "customers:segment-delete": (lambda w, m: [w.segment.pk], lambda w, m: {}),
    # Saves the list's current filters, given in the query string.
    "customers:segment-create": (lambda w, m: [], lambda w, m: {"name": "Ann's"}),
    "customers:merge": (
        lambda w, m: [w.customer.pk],
        lambda w, m: {"other": m.other.pk, "confirm": "on"},
    ),
    "customers:erase": (lambda w, m: [w.customer.pk], lambda w, m: {"confirm": "on"}),
    "security:settings": (
        lambda w, m: [],
        lambda w, m: {"idle_timeout_minutes": "10", "absolute_timeout_hours": "4"},
    ),
    "api_tokens:list": (lambda w, m: [], lambda w, m: {"name": "Another"}),
    "api_tokens:revoke": (lambda w, m: [m.token.pk], lambda w, m: {}),
    "team:invite": (
        lambda w, m: [],
        lambda w, m: {
            "first_name": "Nina",
            "email": "nina@example.com",
            "role": "Staff",
            "delivery": "password",
        },
    ),
    "team:role": (lambda w, m: [m.member.pk], lambda w, m: {"role": "Owner"}),
    "team:reset-password": (
        lambda w, m: [m.member.pk],
        lambda w, m: {"delivery": "password"},
    ),
    "team:deactivate": (lambda w, m: [m.member.pk], lambda w, m: {}),
    "team:reactivate": (lambda w, m: [m.gone.pk], lambda w, m: {}),
}


def post_case(name, world, more):
    args, data = POSTS[name]
    url = reverse(name, args=args(world, more))
    if name == "customers:segment-create":
        url += "?q=ann"
    return url, data(world, more)


# Customers URLs that take no form POST (reading and downloads), and the upload,
# which has its own tests (test_security_injection.py).
NOT_POSTED = {
    "list",
    "detail",
    "needs-follow-up",
    "follow-ups",
    "segments",
    "segment-detail",
    "export",
    "purchase-export",
    "interaction-export",
    "data-export",
    "import",
    "import-job",
    "import-job-progress",
}


def test_every_customers_form_is_covered():
    # A new customers page that takes a POST needs a row in POSTS.
    names = {p.name for p in access.urlpatterns}
    assert names >= NOT_POSTED
    posting = {f"customers:{name}" for name in names - NOT_POSTED}
    assert posting <= set(POSTS), posting - set(POSTS)


@pytest.fixture
def csrf_client(owner_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner_user)
    client.get(reverse("customers:tags"))  # sets the CSRF cookie
    return client


FORGERIES = {
    "no token": lambda token: ({}, {}),
    "forged token": lambda token: ({"csrfmiddlewaretoken": "x" * 64}, {}),
    "other site's origin": lambda token: (
        {"csrfmiddlewaretoken": token},
        {"HTTP_ORIGIN": "https://evil.example"},
    ),
    "null origin": lambda token: (
        {"csrfmiddlewaretoken": token},
        {"HTTP_ORIGIN": "null"},
    ),
}


@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize("name", POSTS)
def test_forged_requests_are_refused_and_change_nothing(
    csrf_client, world, more, name, forgery
):
    url, data = post_case(name, world, more)
    extra_data, headers = FORGERIES[forgery](csrf_client.cookies["csrftoken"].value)
    before = snapshot()
    response = csrf_client.post(url, {**data, **extra_data}, **headers)
    assert response.status_code == 403
    assert snapshot() == before


def test_the_same_request_with_a_real_token_and_origin_goes_through(csrf_client):
    # The control for the test above: the forms do work with a genuine token.
    response = csrf_client.post(
        reverse("customers:tags"),
        {
            "name": "Genuine",
            "csrfmiddlewaretoken": csrf_client.cookies["csrftoken"].value,
        },
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 302
    assert Tag.objects.filter(name="Genuine").exists()


def test_the_api_refuses_a_session_post_without_csrf(owner_user):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(owner_user)
    before = snapshot()
    response = api.post("/api/v1/customers/", {"last_name": "Forged"}, format="json")
    assert response.status_code == 403
    assert snapshot() == before


# Text fields of each form, and what each bad value must give.
TEXT_FIELDS = {
    "customers:create": [
        "first_name",
        "last_name",
        "email",
        "phone",
        "reference",
        "notes",
    ],
    "customers:edit": [
        "first_name",
        "last_name",
        "email",
        "phone",
        "reference",
        "notes",
    ],
    "customers:interaction-create": ["subject", "body", "follow_up_note"],
    "customers:feedback-create": ["comment"],
    "customers:purchase-create": ["reference", "channel", "amount"],
    "customers:tags": ["name"],
    "customers:tag-edit": ["name"],
}
BAD_VALUES = {
    "over-long": "x" * 20_001,
    "NUL byte": "Ann\x00Lee",
    "line break": "Ann\r\nBcc: victim@example.com",
}


# Free text (notes, bodies, comments, subjects) may hold line breaks.
FREE_TEXT = {"notes", "body", "comment", "subject"}
TEXT_CASES = [
    (name, field, what)
    for name, fields in TEXT_FIELDS.items()
    for field in fields
    for what in BAD_VALUES
    if not (what == "line break" and field in FREE_TEXT)
]


@pytest.mark.parametrize("name, field, what", TEXT_CASES)
def test_bad_text_is_a_form_error_and_changes_nothing(
    owner_client, world, more, name, field, what
):
    url, data = post_case(name, world, more)
    value = BAD_VALUES[what]
    before = snapshot()
    response = owner_client.post(url, {**data, field: value})
    assert response.status_code == 200  # the form again, with the error
    assert response.context["form"].errors, response.context["form"].errors
    assert snapshot() == before


def test_invalid_utf8_in_a_form_is_not_stored_as_a_name(owner_client, world, more):
    before = snapshot()
    response = owner_client.post(
        reverse("customers:create"),
        b"last_name=Ann%FF%FELee&email=utf@example.com",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "last_name" in response.context["form"].errors
    assert snapshot() == before


@pytest.mark.parametrize(
    "query",
    [
        "page=-1",
        "page=0",
        "page=abc",
        "page=99999999999999999999999",
        "page=%00",
        "q=%00",
        "q=" + "a%20" * 30_000,
        "q=%FF%FE%FD",
        "q=%ED%A0%80",  # a lone surrogate, encoded
        "sort=%27;DROP TABLE customers_customer;--",
        "tag=-1",
        "tag=99999999999999999999999",
        "tag=%00",
        "owner=abc",
        "owner=99999999999999999999999",
        "no_contact_days=-5",
        "no_purchase_days=99999999999999999999",
        "opted_in=fax",
        "segment=%00",
        "days=-3",
        "days=%00",
        "days=99999999999999999999",
        "&".join(f"f{n}=1" for n in range(1_100)),
    ],
)
@pytest.mark.parametrize(
    "name, args",
    [
        ("customers:list", lambda w: []),
        ("customers:needs-follow-up", lambda w: []),
        ("customers:follow-ups", lambda w: []),
        ("customers:tags", lambda w: []),
        ("customers:segments", lambda w: []),
        ("customers:detail", lambda w: [w.customer.pk]),
        ("customers:export", lambda w: []),
        ("audit:list", lambda w: []),
    ],
)
def test_bad_query_strings_are_never_a_server_error(
    owner_client, world, name, args, query
):
    response = owner_client.get(f"{reverse(name, args=args(world))}?{query}")
    assert response.status_code in (200, 400, 404), response.status_code


@pytest.mark.parametrize(
    "path",
    [
        "/customers/-1/",
        "/customers/99999999999999999999999/",
        "/customers/%00/",
        "/customers/%FF/",
        "/customers/1/purchases/99999999999999999999999/refund/",
        "/settings/api-tokens/99999999999999999999999/revoke/",
    ],
)
def test_bad_ids_in_the_path_are_not_found(owner_client, path):
    assert owner_client.get(path).status_code == 404


def test_refunding_another_customers_purchase_is_not_found(owner_client, world, more):
    before = snapshot()
    url = reverse(
        "customers:purchase-refund", args=[world.customer.pk, more.other_purchase.pk]
    )
    assert owner_client.get(url).status_code == 404
    assert owner_client.post(url, {"amount": "1.00"}).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize(
    "name, bad",
    [
        ("customers:edit", lambda w, m: {"owner": 99999999}),
        ("customers:edit", lambda w, m: {"tags": [99999999]}),
        ("customers:edit", lambda w, m: {"owner": "-1"}),
        ("customers:merge", lambda w, m: {"other": w.customer.pk}),  # itself
        ("customers:merge", lambda w, m: {"other": 99999999999999999999}),
        (
            "customers:interaction-create",
            lambda w, m: {"follow_up_on": "2030-01-01", "follow_up_assignee": 99999999},
        ),
    ],
)
def test_ids_of_missing_or_wrong_records_are_form_errors(
    owner_client, world, more, name, bad
):
    url, data = post_case(name, world, more)
    before = snapshot()
    response = owner_client.post(url, {**data, **bad(world, more)})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors
    assert snapshot() == before


def test_an_inactive_user_cannot_be_made_a_customers_owner(owner_client, world, more):
    gone = UserFactory(username="gone", is_active=False)
    gone.groups.add(Group.objects.get(name=OWNER))
    url, data = post_case("customers:edit", world, more)
    before = snapshot()
    response = owner_client.post(url, {**data, "owner": gone.pk})
    assert "owner" in response.context["form"].errors
    assert snapshot() == before


def test_fields_a_form_does_not_show_are_ignored(owner_client, world, more):
    url, data = post_case("customers:edit", world, more)
    figures = Customer.objects.values_list(
        "orders_count", "total_spent", "search_text", "created_at"
    ).get(pk=world.customer.pk)
    owner_client.post(
        url,
        {
            **data,
            "orders_count": 999,
            "total_spent": "123456.00",
            "search_text": "injected",
            "id": more.other.pk,
            "pk": more.other.pk,
        },
    )
    after = Customer.objects.get(pk=world.customer.pk)
    assert (after.orders_count, after.total_spent, after.created_at) == (
        figures[0],
        figures[1],
        figures[3],
    )
    assert "injected" not in after.search_text
    assert Customer.objects.get(pk=more.other.pk).first_name == "Other"


@pytest.fixture
def api(staff_user):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {create_api_token(user=staff_user, name='t')[1]}"
    )
    return client


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("post", "/api/v1/customers/", {"last_name": "Ann\x00Lee"}),
        ("post", "/api/v1/customers/", {"last_name": "Ann\r\nBcc: x@example.com"}),
        ("post", "/api/v1/customers/", {"first_name": "x" * 101, "last_name": "L"}),
        (
            "post",
            "/api/v1/customers/",
            {"last_name": "L", "email": "a@b.c\r\nBcc: x@y.z"},
        ),
        ("patch", "/api/v1/customers/{customer}/", {"last_name": "L\u2028M"}),
        (
            "post",
            "/api/v1/customers/{customer}/purchases/",
            {
                "amount": "5.00",
                "occurred_at": "2020-01-01T00:00:00Z",
                "customer": "{other}",
            },
        ),
        (
            "post",
            "/api/v1/customers/99999999999999999999/purchases/",
            {"amount": "5.00", "occurred_at": "2020-01-01T00:00:00Z"},
        ),
        ("get", "/api/v1/customers/?page=-1", None),
        ("get", "/api/v1/customers/?page=99999999999999999999", None),
        ("get", "/api/v1/customers/?search=%00", None),
        ("get", "/api/v1/customers/?page_size=-5", None),
    ],
)
def test_the_api_refuses_bad_input_with_4xx_and_changes_nothing(
    api, world, more, method, path, body
):
    def fill(value):
        if isinstance(value, str):
            return value.format(customer=world.customer.pk, other=more.other.pk)
        return value

    before = snapshot()
    kwargs = {"format": "json"} if body is not None else {}
    data = {k: fill(v) for k, v in body.items()} if body else None
    response = getattr(api, method)(fill(path), data, **kwargs)
    if method == "get":
        assert response.status_code in (200, 400, 404)
    elif "customer" in (body or {}):
        # The path names the customer; a body naming another is not obeyed.
        assert response.status_code in (201, 400)
        assert not more.other.purchases.exclude(pk=more.other_purchase.pk).exists()
        return
    else:
        assert 400 <= response.status_code < 500, response.content
    assert snapshot() == before


def test_invalid_utf8_json_is_400(api):
    before = snapshot()
    response = api.generic(
        "POST",
        "/api/v1/customers/",
        b'{"last_name": "Ann\xff\xfeLee"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert snapshot() == before
