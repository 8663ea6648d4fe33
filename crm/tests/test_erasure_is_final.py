"""Erasure is final: after it no form, API call or import stores personal data
on the record, and the other copies of the person's data go with it (stored API
responses, import reports and waiting uploads, message bodies, cached pages)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from communications.models import Message
from communications.tests.helpers import NOW, queue_message
from crm.models import IdempotencyRecord
from crm.tests.conftest import bearer
from customers import services
from customers.data_rights import erase_customer
from customers.import_jobs import ERASED_FILE_ERROR, ERASED_ROWS_NOTE
from customers.models import (
    Customer,
    Feedback,
    ImportJob,
    Interaction,
    Purchase,
)
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ERASED_PAGE_TEXT = "nothing more can be stored about them"
IDENTIFYING = ("Zoë", "Martin", "zoe.martin@example.com", "+44 7700 900321", "ZM-77")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def person(owner_user):
    customer = CustomerFactory(
        first_name="Zoë",
        last_name="Martin",
        email="zoe.martin@example.com",
        phone="+44 7700 900321",
        reference="ZM-77",
    )
    services.record_purchase(
        customer=customer, amount="30.00", occurred_at=timezone.now()
    )
    return customer


def erased(person, owner_user) -> Customer:
    erase_customer(customer=person, by=owner_user)
    return Customer.objects.get(pk=person.pk)


def snapshot(customer: Customer) -> tuple:
    customer.refresh_from_db()
    return (
        customer.first_name,
        customer.last_name,
        customer.email,
        customer.phone,
        customer.reference,
        customer.notes,
        customer.email_opt_in,
        Interaction.objects.filter(customer=customer).count(),
        Purchase.objects.filter(customer=customer).count(),
        Feedback.objects.filter(customer=customer).count(),
    )


def test_the_edit_form_cannot_bring_an_erased_customer_back(
    person, owner_user, owner_client
):
    customer = erased(person, owner_user)
    before = snapshot(customer)
    url = reverse("customers:edit", args=[customer.pk])

    page = owner_client.get(url, follow=True)
    assert ERASED_PAGE_TEXT in page.content.decode()
    posted = owner_client.post(
        url,
        {"first_name": "Zoë", "last_name": "Martin", "email": "zoe@example.com"},
        follow=True,
    )

    assert "personal data was erased, so nothing more can be stored" in (
        posted.content.decode()
    )
    assert snapshot(customer) == before


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("interaction-create", {"kind": "call", "subject": "Zoë rang", "body": "x"}),
        ("purchase-create", {"amount": "12.00", "reference": "ZM-NEW"}),
        ("feedback-create", {"kind": "csat", "score": "5", "comment": "Zoë"}),
        ("merge", {"other": "1"}),
    ],
)
def test_no_form_on_the_customer_page_stores_anything_after_erasure(
    person, owner_user, owner_client, name, data
):
    customer = erased(person, owner_user)
    before = snapshot(customer)
    response = owner_client.post(
        reverse(f"customers:{name}", args=[customer.pk]), data, follow=True
    )
    assert "nothing more can be stored" in response.content.decode()
    assert snapshot(customer) == before


def test_the_customer_page_offers_no_form_to_fill_after_erasure(
    person, owner_user, owner_client
):
    customer = erased(person, owner_user)
    page = owner_client.get(customer.get_absolute_url()).content.decode()
    assert ERASED_PAGE_TEXT in page
    assert reverse("customers:edit", args=[customer.pk]) not in page
    assert reverse("customers:interaction-create", args=[customer.pk]) not in page


@pytest.mark.parametrize(
    "service",
    [
        lambda c: services.update_customer(customer=c, first_name="Zoë"),
        lambda c: services.update_customer(customer=c, email_opt_in=True),
        lambda c: services.log_interaction(customer=c, kind="note", body="Zoë"),
        lambda c: services.record_purchase(
            customer=c, amount="1.00", occurred_at=timezone.now(), reference="R-9"
        ),
        lambda c: services.record_feedback(customer=c, kind="csat", score=4),
        lambda c: services.merge_customers(keep=c, merge=CustomerFactory()),
        lambda c: services.merge_customers(keep=CustomerFactory(), merge=c),
    ],
)
def test_every_service_that_stores_refuses_an_erased_customer(
    person, owner_user, service
):
    customer = erased(person, owner_user)
    before = snapshot(customer)
    with pytest.raises(services.CustomerErased, match="erased"):
        service(customer)
    assert snapshot(customer) == before


def test_the_api_refuses_to_store_on_an_erased_customer(
    person, owner_user, api_client, staff_token
):
    customer = erased(person, owner_user)
    before = snapshot(customer)
    api_client.credentials(**bearer(staff_token))
    detail = reverse("api:customer-detail", args=[customer.pk])
    calls = [
        ("patch", detail, {"first_name": "Zoë", "email": "zoe@example.com"}),
        ("put", detail, {"first_name": "Zoë", "last_name": "Martin"}),
        (
            "post",
            reverse("api:customer-interaction-list", args=[customer.pk]),
            {"kind": "note", "body": "Zoë called"},
        ),
        (
            "post",
            reverse("api:customer-purchase-list", args=[customer.pk]),
            {"amount": "5.00", "reference": "ZM-API"},
        ),
        (
            "post",
            reverse("api:customer-feedback-list", args=[customer.pk]),
            {"kind": "csat", "score": 5, "comment": "Zoë"},
        ),
    ]
    for method, url, body in calls:
        response = getattr(api_client, method)(url, body, format="json")
        assert response.status_code == 409, (url, response.content)
        assert "personal data was erased" in response.json()["non_field_errors"][0]
    assert snapshot(customer) == before


def test_an_import_row_for_the_erased_person_cannot_reach_their_record(
    person, owner_user, owner_client
):
    customer = erased(person, owner_user)
    before = snapshot(customer)
    text = (
        "email;first_name;last_name;reference\n"
        "zoe.martin@example.com;Zoë;Martin;ZM-77\n"
    )
    url = reverse("customers:import")
    preview = owner_client.post(
        url,
        {"kind": "customers", "file": SimpleUploadedFile("c.csv", text.encode())},
    )
    done = owner_client.post(
        url, {"upload": preview.context["upload"], "kind": "customers"}
    )

    # Found by nothing the erased record still holds: a new record, as for a
    # returning customer; the anonymous one is untouched.
    assert done.context["report"].created == 1
    assert snapshot(customer) == before
    assert Customer.objects.exclude(pk=customer.pk).get().email == (
        "zoe.martin@example.com"
    )


def test_stored_api_responses_lose_the_person_and_a_retry_creates_nothing(
    owner_user, api_client, staff_token
):
    api_client.credentials(**bearer(staff_token))
    body = {"first_name": "Zoë", "last_name": "Martin", "email": "zm@example.com"}
    headers = {"HTTP_IDEMPOTENCY_KEY": "new-customer-1"}
    created = api_client.post(
        reverse("api:customer-list"), body, format="json", **headers
    )
    assert created.status_code == 201
    customer = Customer.objects.get(pk=created.json()["id"])
    note_headers = {"HTTP_IDEMPOTENCY_KEY": "note-1"}
    api_client.post(
        reverse("api:customer-interaction-list", args=[customer.pk]),
        {"kind": "note", "body": "Zoë asked about zm@example.com"},
        format="json",
        **note_headers,
    )
    assert IdempotencyRecord.objects.filter(customer_id=customer.pk).count() == 2

    erase_customer(customer=customer, by=owner_user)

    for record in IdempotencyRecord.objects.all():
        stored = str(record.response_body)
        assert "Zoë" not in stored and "zm@example.com" not in stored
        assert "Martin" not in stored
    retry = api_client.post(
        reverse("api:customer-list"), body, format="json", **headers
    )
    assert retry.status_code == 410
    assert "erased" in retry.json()["detail"]
    assert Customer.objects.count() == 1


def test_import_reports_and_waiting_uploads_lose_the_person(
    person, owner_user, django_capture_on_commit_callbacks
):
    other_row = [3, "bo@example.com", ["first name: Bo → Bob"]]
    waiting = default_storage.save(
        "imports/waiting.csv",
        ContentFile(b"email;first_name\nZOE.MARTIN@example.com;Zoe\n"),
    )
    unrelated = default_storage.save(
        "imports/unrelated.csv", ContentFile(b"email;first_name\nbo@example.com;Bo\n")
    )
    job = ImportJob.objects.create(
        kind="customers",
        file_name="list.csv",
        stored_as=waiting,
        status=ImportJob.Status.PREVIEWED,
        report={
            "rows": 2,
            "updated": 2,
            "updates": [
                [2, "ZM-77", ["last name: Martin → Martin-Lee"]],
                other_row,
            ],
            "rejected": [[4, "phone", "+44 7700 900321", "Enter a number"]],
            "rejected_count": 1,
            "notes": [],
        },
    )
    done = ImportJob.objects.create(
        kind="customers",
        file_name="old.csv",
        stored_as="imports/gone.csv",
        status=ImportJob.Status.DONE,
        report={"rows": 1, "updates": [[2, "zoe.martin@example.com", []]]},
    )

    with django_capture_on_commit_callbacks(execute=True):
        record = erase_customer(customer=person, by=owner_user)

    job.refresh_from_db()
    done.refresh_from_db()
    for stored in (job.report, done.report):
        text = str(stored)
        assert not any(value.lower() in text.lower() for value in IDENTIFYING[1:])
        assert ERASED_ROWS_NOTE in stored["notes"]
    assert job.report["updates"] == [other_row]
    assert (job.report["rows"], job.report["updated"]) == (2, 2)  # counts stay
    assert (job.status, job.error) == (ImportJob.Status.FAILED, ERASED_FILE_ERROR)
    assert not default_storage.exists(waiting)
    assert default_storage.exists(unrelated)
    assert record.wiped["import_reports"] == 2
    assert record.wiped["import_files"] == 1


def test_message_bodies_lose_the_person(person, owner_user):
    message = queue_message(person, now=NOW)
    Message.objects.filter(pk=message.pk).update(
        to_address=person.email,
        subject="Thanks, Zoë",
        body_text="Dear Zoë Martin, thank you",
        body_html="<p>Dear Zoë Martin</p>",
    )
    erase_customer(customer=person, by=owner_user)
    message.refresh_from_db()
    text = " ".join(
        [message.to_address, message.subject, message.body_text, message.body_html]
    )
    assert not any(value in text for value in IDENTIFYING)


def cached_values() -> list[bytes]:
    client = cache._cache.get_client()
    return [client.get(key) or b"" for key in client.scan_iter("*")]


def test_no_page_or_cache_keeps_a_copy_after_erasure(person, owner_user, owner_client):
    cache.clear()
    pages = [
        person.get_absolute_url(),
        reverse("customers:list") + "?q=Martin",
        reverse("dashboard:index"),
    ]
    for url in pages:
        response = owner_client.get(url)
        assert response.status_code == 200
        # A browser or proxy keeps no copy of a signed-in page to show later.
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
    owner_client.get(reverse("api:customer-detail", args=[person.pk]))
    assert cached_values()  # the dashboard and the session are in the cache

    erase_customer(customer=person, by=owner_user)

    for url in pages:
        page = owner_client.get(url).content.decode()
        assert "Zoë" not in page and "zoe.martin@example.com" not in page
    stored = b" ".join(cached_values())
    for value in IDENTIFYING:
        assert value.encode() not in stored
