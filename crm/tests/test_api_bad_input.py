"""Bad input to the API is a 4xx with field errors, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.api.parsers import DEFAULT_MAX_BODY_BYTES
from customers.models import Customer, Purchase

pytestmark = pytest.mark.django_db

LIST = reverse("api:customer-list")


def raw_post(client, url, body: bytes | str, content_type="application/json", **extra):
    return client.generic("POST", url, body, content_type=content_type, **extra)


@pytest.mark.parametrize(
    "body",
    [
        '{"first_name": "Ada"',  # cut short
        "{'first_name': 'Ada'}",  # not JSON quotes
        '{"first_name": "Ada",}',
        '{"amount": NaN}',
        "",  # declared JSON, empty
        b'{"first_name": "\xff\xfe"}',  # not UTF-8
        "[" * 100_000 + "]" * 100_000,  # nested deeper than the parser recurses
        '{"n": 1' + "0" * 5000 + "}",  # an integer too long to convert
    ],
    ids=[
        "truncated",
        "single-quotes",
        "trailing-comma",
        "nan",
        "empty",
        "not-utf8",
        "deep-nesting",
        "huge-integer",
    ],
)
def test_malformed_json_is_400(staff_api, body):
    response = raw_post(staff_api, LIST, body)
    # An empty body parses as no data: the customer is then incomplete (400).
    assert response.status_code == 400
    assert response.json()
    assert not Customer.objects.exists()


def test_malformed_json_says_what_is_wrong(staff_api):
    response = raw_post(staff_api, LIST, '{"first_name": ')
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


@pytest.mark.parametrize(
    "body",
    ["[]", '"Ada"', "42", "null", '[{"first_name": "Ada"}]'],
)
def test_a_body_that_is_not_an_object_is_400(staff_api, body):
    response = raw_post(staff_api, LIST, body)
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("first_name", {"a": 1}),
        ("first_name", ["Ada"]),
        ("first_name", "x" * 101),
        ("first_name", "Ada\x00"),
        ("email", "not an email"),
        ("email", 42),
        ("birthday", "31/12/1990"),
        ("birthday", "3000-01-01"),
        ("email_opt_in", "perhaps"),
        ("tags", "vip"),
        ("tags", [1, {"x": 2}]),
        ("owner", 12),
        ("owner", ["sam"]),
    ],
)
def test_wrong_types_are_400_beside_the_field(staff_api, field, value):
    response = staff_api.post(
        LIST, {"last_name": "Lovelace", field: value}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("amount", "twelve"),
        ("amount", True),
        ("amount", [1]),
        ("occurred_at", "0001-01-01T00:00:00+05:00"),
        ("occurred_at", 1700000000),
        ("currency", 978),
        ("reference", "x" * 65),
    ],
)
def test_wrong_purchase_types_are_400(staff_api, customer, field, value):
    url = reverse("api:customer-purchase-list", args=[customer.pk])
    body = {"amount": "1.00", field: value}
    response = staff_api.post(url, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Purchase.objects.exists()


def test_unknown_fields_are_400_and_named(staff_api, customer):
    before = Customer.objects.count()
    response = staff_api.post(
        LIST,
        {"first_name": "Ada", "favourite_colour": "green", "nmae": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "favourite_colour": ["Unknown field."],
        "nmae": ["Unknown field."],
    }
    assert Customer.objects.count() == before
    url = reverse("api:customer-purchase-list", args=[customer.pk])
    response = staff_api.post(url, {"amount": "1.00", "ammount": "2"}, format="json")
    assert response.json() == {"ammount": ["Unknown field."]}


def test_unknown_and_invalid_fields_are_reported_together(staff_api):
    response = staff_api.post(LIST, {"email": "nope", "colour": "red"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"email", "colour"}


def test_an_oversized_body_is_413(staff_api):
    body = '{"first_name": "Ada", "notes": "' + "x" * DEFAULT_MAX_BODY_BYTES + '"}'
    response = raw_post(staff_api, LIST, body)
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert not Customer.objects.exists()


def test_the_limit_can_be_set(staff_api, settings):
    settings.API_MAX_BODY_BYTES = 100
    small = '{"first_name": "Ada"}'
    large = '{"first_name": "Ada", "notes": "' + "x" * 100 + '"}'
    assert raw_post(staff_api, LIST, large).status_code == 413
    assert raw_post(staff_api, LIST, small).status_code == 201


def test_a_body_just_under_the_limit_is_accepted(staff_api):
    notes = "x" * (DEFAULT_MAX_BODY_BYTES - 100)
    response = staff_api.post(
        LIST, {"first_name": "Ada", "notes": notes}, format="json"
    )
    assert response.status_code == 201
    assert len(Customer.objects.get().notes) == len(notes)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ],
)
def test_other_content_types_are_415(staff_api, content_type):
    response = raw_post(staff_api, LIST, "first_name=Ada", content_type=content_type)
    assert response.status_code == 415
    assert not Customer.objects.exists()


def test_an_out_of_range_number_is_400(staff_api, customer):
    url = reverse("api:customer-purchase-list", args=[customer.pk])
    response = raw_post(staff_api, url, '{"amount": 1e400}')
    assert response.status_code == 400
    assert "amount" in response.json()
    assert not Purchase.objects.exists()


def test_a_compressing_charset_is_400(staff_api):
    # A bytes-to-bytes codec would inflate a small body past the size limit.
    response = raw_post(
        staff_api, LIST, '{"first_name": "Ada"}',
        content_type="application/json; charset=bz2_codec",
    )  # fmt: skip
    assert response.status_code == 400
    assert not Customer.objects.exists()


def test_a_total_beyond_the_column_is_400_not_500(staff_api):
    customer = Customer.objects.create(first_name="Big spender")
    Customer.objects.filter(pk=customer.pk).update(total_spent="999999999999.00")
    url = reverse("api:customer-purchase-list", args=[customer.pk])
    response = staff_api.post(url, {"amount": "9999999999.00"}, format="json")
    assert response.status_code == 400
    assert not Purchase.objects.exists()
