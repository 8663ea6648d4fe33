"""E-mail header injection through customer fields, and the limits on
uploaded files."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import BadHeaderError, EmailMessage
from django.urls import reverse

from customers.models import Customer, ImportJob
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
IMPORT = reverse("customers:import")
INJECTIONS = [
    "Ann\r\nBcc: everyone@example.com",
    "Ann\nSubject: free money",
    "Ann\rX-Header: 1",
    "Ann\u2028Lee",
    "Ann\x85Lee",
]


@pytest.mark.parametrize("value", INJECTIONS)
@pytest.mark.parametrize("field", ["first_name", "last_name", "email", "reference"])
def test_the_customer_form_refuses_line_breaks_in_header_fields(
    staff_client, field, value
):
    data = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}
    response = staff_client.post(reverse("customers:create"), {**data, field: value})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Customer.objects.exists()


@pytest.mark.parametrize("value", INJECTIONS)
def test_editing_a_name_to_inject_a_header_is_refused(staff_client, value):
    customer = CustomerFactory(first_name="Ann")
    response = staff_client.post(
        reverse("customers:edit", args=[customer.pk]),
        {"first_name": value, "last_name": "Lee", "email": customer.email},
    )
    assert "first_name" in response.context["form"].errors
    customer.refresh_from_db()
    assert customer.first_name == "Ann"


def upload(content: bytes | str, name: str = "people.csv") -> SimpleUploadedFile:
    if isinstance(content, str):
        content = content.encode()
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_the_csv_import_rejects_a_name_with_a_line_break(owner_client, media):
    csv = (
        'reference,first_name,email\nC-1,"Ann\r\nBcc: all@example.com",a@example.com\n'
    )
    response = owner_client.post(IMPORT, {"kind": "customers", "file": upload(csv)})
    report = response.context["report"]
    assert report.rejected_count == 1
    assert "first_name" in str(report.rejected[0])
    assert not Customer.objects.exists()


def test_a_header_with_a_line_break_is_never_sent():
    # The last line of defence if such text were ever stored by another path:
    # Django refuses to build the message rather than send extra headers.
    message = EmailMessage(
        subject="Hello\r\nBcc: everyone@example.com",
        body="Hi",
        to=["ann@example.com"],
    )
    with pytest.raises((BadHeaderError, ValueError)):
        message.send()
    assert mail.outbox == []


@pytest.mark.parametrize(
    "content, name",
    [
        ("reference,email\nC-1,a@example.com\n", "people.exe"),
        ("reference,email\nC-1,a@example.com\n", "people.csv.html"),
        ("reference,email\nC-1,a@example.com\n", "people"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "picture.csv"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "program.csv"),
        (b"reference,email\nC-1,\xff\xfe@example.com\n", "latin.csv"),
        (b"reference,email\nC-1,a\x00@example.com\n", "nul.csv"),
        (b"", "empty.csv"),
    ],
)
def test_uploads_of_the_wrong_type_or_content_are_refused(
    owner_client, media, content, name
):
    response = owner_client.post(
        IMPORT, {"kind": "customers", "file": upload(content, name)}
    )
    assert response.status_code == 200
    form_errors = response.context.get("form") and response.context["form"].errors
    report = response.context.get("report")
    assert form_errors or (report is not None and not report.ok)
    assert not Customer.objects.exists()
    if form_errors:  # refused outright: nothing kept on disk
        assert not [path for path in media.rglob("*") if path.is_file()]


def test_an_upload_over_the_size_limit_is_refused(owner_client, media, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    big = "reference,email\n" + "".join(
        f"C-{n},c{n}@example.com\n" for n in range(60_000)
    )
    assert len(big) > 1024 * 1024
    response = owner_client.post(IMPORT, {"kind": "customers", "file": upload(big)})
    assert "the limit is 1 MB" in str(response.context["form"].errors["file"])
    assert not Customer.objects.exists()
    assert not ImportJob.objects.exists()
    assert not list(media.rglob("*"))


@pytest.mark.parametrize(
    "upload_id", ["../../etc/passwd", "0" * 32, "a" * 31, "%00", "A" * 32]
)
def test_a_forged_upload_reference_imports_nothing(owner_client, media, upload_id):
    response = owner_client.post(IMPORT, {"upload": upload_id, "kind": "customers"})
    assert response.status_code == 302
    assert not Customer.objects.exists()


def test_staff_cannot_upload(staff_client, media):
    response = staff_client.post(
        IMPORT, {"kind": "customers", "file": upload("reference\nC-1\n")}
    )
    assert response.status_code == 403
    assert not list(media.rglob("*"))
