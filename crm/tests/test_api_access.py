"""Who may call which endpoint: no token, a revoked token, a token of a user in
no group or of an inactive user, a Staff token and an Owner token."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from crm.api.urls import urlpatterns as api_urlpatterns
from crm.tests.conftest import bearer
from customers.models import Customer, Feedback, Interaction, Purchase
from customers.tests.factories import TagFactory, UserFactory

pytestmark = pytest.mark.django_db


def valid_body(name: str) -> dict:
    """A body each POST accepts (the count of rows made is checked)."""
    return {
        "customers": {"first_name": "Ada", "email": "ada@example.com"},
        "purchases": {"amount": "12.50"},
        "interactions": {"kind": "call", "subject": "Asked about delivery"},
        "feedback": {"kind": "csat", "score": 5},
    }[name]


# (method, URL name, URL arguments: "customer" or nothing, status for staff/owner)
ENDPOINTS = [
    ("get", "api:customer-list", False, 200),
    ("post", "api:customer-list", False, 201),
    ("get", "api:customer-detail", True, 200),
    ("put", "api:customer-detail", True, 200),
    ("patch", "api:customer-detail", True, 200),
    ("get", "api:customer-purchase-list", True, 200),
    ("post", "api:customer-purchase-list", True, 201),
    ("get", "api:customer-interaction-list", True, 200),
    ("post", "api:customer-interaction-list", True, 201),
    ("post", "api:customer-feedback-list", True, 201),
    ("get", "api:api-root", False, 200),
    ("get", "api:schema", False, 200),
]
CREATED_BY = {
    "api:customer-list": Customer,
    "api:customer-purchase-list": Purchase,
    "api:customer-interaction-list": Interaction,
    "api:customer-feedback-list": Feedback,
}
BODY_OF = {
    "api:customer-list": "customers",
    "api:customer-detail": "customers",
    "api:customer-purchase-list": "purchases",
    "api:customer-interaction-list": "interactions",
    "api:customer-feedback-list": "feedback",
}
IDS = [f"{method.upper()} {name}" for method, name, _, _ in ENDPOINTS]


def call(client, endpoint, customer, credentials: dict | None = None):
    method, name, needs_customer, _ = endpoint
    url = reverse(name, args=[customer.pk] if needs_customer else [])
    body = valid_body(BODY_OF[name]) if method in {"post", "put", "patch"} else None
    if name == "api:customer-detail" and body:
        body = {"first_name": "Zoe", "email": "zoe@example.com"}
    return getattr(client, method)(url, body, format="json", **(credentials or {}))


def row_counts() -> dict:
    return {model: model.objects.count() for model in CREATED_BY.values()}


def test_every_api_route_is_in_the_matrix():
    names = set()
    for pattern in api_urlpatterns:
        if isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"api:{pattern.name}")
    # The docs page is HTML and has its own tests below; format-suffix
    # variants share the names.
    assert names - {"api:docs"} == {name for _, name, _, _ in ENDPOINTS}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_no_token_is_401_and_changes_nothing(api_client, customer, endpoint):
    before = row_counts()
    response = call(api_client, endpoint, customer)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert row_counts() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_revoked_token_is_401(api_client, customer, revoked_token, endpoint):
    before = row_counts()
    response = call(api_client, endpoint, customer, bearer(revoked_token))
    assert response.status_code == 401
    assert row_counts() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_unknown_token_is_401(api_client, customer, endpoint):
    response = call(api_client, endpoint, customer, bearer("not-a-real-token"))
    assert response.status_code == 401


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_token_of_an_inactive_user_is_401(
    api_client, customer, inactive_token, endpoint
):
    before = row_counts()
    response = call(api_client, endpoint, customer, bearer(inactive_token))
    assert response.status_code == 401
    assert row_counts() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_token_of_a_user_in_no_group_is_403(
    api_client, customer, no_group_token, endpoint
):
    before = row_counts()
    response = call(api_client, endpoint, customer, bearer(no_group_token))
    assert response.status_code == 403
    assert row_counts() == before


@pytest.mark.parametrize("token", ["staff_token", "owner_token"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_staff_and_owner_tokens_may_call_every_endpoint(
    request, api_client, customer, token, endpoint
):
    secret = request.getfixturevalue(token)
    before = row_counts()
    response = call(api_client, endpoint, customer, bearer(secret))
    assert response.status_code == endpoint[3], response.content
    model = CREATED_BY.get(endpoint[1])
    if endpoint[0] == "post":
        assert model.objects.count() == before[model] + 1
    else:
        assert row_counts() == before


def test_token_keyword_works_as_well_as_bearer(api_client, customer, staff_token):
    url = reverse("api:customer-detail", args=[customer.pk])
    response = api_client.get(url, HTTP_AUTHORIZATION=f"Token {staff_token}")
    assert response.status_code == 200
    assert response.json()["id"] == customer.pk


def test_a_token_follows_its_users_current_role(
    api_client, customer, staff_user, staff_token
):
    url = reverse("api:customer-list")
    assert api_client.get(url, **bearer(staff_token)).status_code == 200
    staff_user.groups.clear()
    assert api_client.get(url, **bearer(staff_token)).status_code == 403


def test_a_token_acts_as_its_user(api_client, customer, staff_user, staff_token):
    url = reverse("api:customer-interaction-list", args=[customer.pk])
    response = api_client.post(
        url, {"kind": "note", "body": "VIP"}, format="json", **bearer(staff_token)
    )
    assert response.status_code == 201
    assert response.json()["by"] == staff_user.username
    assert Interaction.objects.get().by == staff_user


def test_malformed_authorization_header_is_401(api_client, customer):
    url = reverse("api:customer-list")
    for header in ["Bearer", "Bearer two parts", "Bearer " + "x" * 500]:
        assert api_client.get(url, HTTP_AUTHORIZATION=header).status_code == 401


def test_staff_session_may_use_the_browsable_api(staff_client, customer):
    response = staff_client.get(reverse("api:customer-list"), HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Zo" in response.content


def test_session_of_a_user_in_no_group_is_refused(client, customer):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse("api:customer-list")).status_code == 403


def test_session_post_needs_csrf(customer, staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    response = client.post(
        reverse("api:customer-list"),
        {"first_name": "Ada"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Customer.objects.filter(first_name="Ada").exists()


# The docs page is HTML: anonymous visitors are sent to log in, like every page.
def test_docs_send_anonymous_to_log_in(client):
    url = reverse("api:docs")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_docs_refuse_a_user_in_no_group(client):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(reverse("api:docs")).status_code == 403


@pytest.mark.parametrize("which", ["staff_client", "owner_client"])
def test_docs_open_for_staff_and_owner_with_local_files(request, which):
    client = request.getfixturevalue(which)
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    )
    assert "http://" not in page and "https://" not in page  # no CDN
    assert "<script>" not in page  # no inline script (CSP)
    assert "<style" not in page
    script = client.get(reverse("api:docs") + "?script=")
    assert script.status_code == 200
    assert "/api/v1/schema/" in script.content.decode()
    bundle = client.get(
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    )
    assert bundle.status_code == 200


def test_schema_is_openapi_with_the_token_scheme(api_client, staff_token):
    response = api_client.get(
        reverse("api:schema"), {"format": "json"}, **bearer(staff_token)
    )
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    paths = schema["paths"]
    assert set(paths) == {
        "/api/v1/customers/",
        "/api/v1/customers/{id}/",
        "/api/v1/customers/{customer_pk}/purchases/",
        "/api/v1/customers/{customer_pk}/interactions/",
        "/api/v1/customers/{customer_pk}/feedback/",
    }
    create = paths["/api/v1/customers/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]


@pytest.mark.parametrize(
    "name, needs_customer",
    [
        ("api:api-root", False),
        ("api:customer-list", False),
        ("api:customer-detail", True),
        ("api:customer-purchase-list", True),
        ("api:customer-interaction-list", True),
    ],
)
def test_browsable_api_pages_render_for_staff(
    staff_client, customer, name, needs_customer
):
    customer.tags.add(TagFactory(name="VIP"))
    url = reverse(name, args=[customer.pk] if needs_customer else [])
    response = staff_client.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
