"""The Owner's CSV upload: preview (dry run) first, then import."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer, Purchase
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

IMPORT = reverse("customers:import")
CUSTOMERS = (
    "reference;first_name;email\n"
    "C-1;Zoë;zoe@example.com\n"
    "C-2;Bob;bob-at-example\n"
    "C-3;Cat;cat@example.com\n"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(text: str | bytes, name: str = "file.csv") -> SimpleUploadedFile:
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def preview(client, text, kind="customers", **extra):
    return client.post(IMPORT, {"kind": kind, "file": upload(text), **extra})


def test_preview_shows_the_report_and_writes_nothing(owner_client):
    response = preview(owner_client, CUSTOMERS)
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.created, len(report.rejected)) == (2, 1)
    page = response.content.decode()
    assert "nothing has been written yet" in page
    assert "bob-at-example" in page and "Enter a valid email address." in page
    assert not Customer.objects.exists()


def test_import_after_preview_writes_and_a_second_import_changes_nothing(
    owner_client, media
):
    upload_id = preview(owner_client, CUSTOMERS).context["upload"]
    response = owner_client.post(IMPORT, {"upload": upload_id, "kind": "customers"})
    assert response.context["done"]
    assert set(Customer.objects.values_list("reference", flat=True)) == {"C-1", "C-3"}
    assert not list(media.glob("imports/*"))  # the upload is not kept

    again = preview(owner_client, CUSTOMERS).context["upload"]
    report = owner_client.post(IMPORT, {"upload": again, "kind": "customers"}).context[
        "report"
    ]
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert Customer.objects.count() == 2


def test_purchases_with_create_missing(owner_client):
    CustomerFactory(reference="C-1")
    text = "customer,occurred_at,amount\nC-1,2024-01-01,5.00\nC-9,2024-01-02,7.00\n"
    upload_id = preview(
        owner_client, text, kind="purchases", create_missing="on"
    ).context["upload"]
    owner_client.post(
        IMPORT, {"upload": upload_id, "kind": "purchases", "create_missing": "True"}
    )
    assert Purchase.objects.count() == 2
    assert Customer.objects.get(reference="C-9").orders_count == 1


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (
            b"reference,email\n" + "C-1,zoë@example.com\n".encode("latin-1"),
            "file.csv",
            "Line 2 is not UTF-8",
        ),
        ("", "file.csv", "The submitted file is empty."),
        ("reference,colour\nC-1,red\n", "file.csv", "unknown columns: colour"),
        ("reference,email\nC-1,a@example.com\n", "file.xlsx", "Choose a .csv file."),
    ],
)
def test_a_bad_file_is_refused_beside_the_file_field(owner_client, data, name, message):
    response = owner_client.post(
        IMPORT, {"kind": "customers", "file": upload(data, name)}
    )
    assert message in str(response.context["form"].errors["file"])
    assert not Customer.objects.exists()


def test_a_file_over_the_limit_is_refused(owner_client, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 0
    response = preview(owner_client, CUSTOMERS)
    assert "the limit is 0 MB" in str(response.context["form"].errors["file"])


def test_an_unknown_or_forged_upload_id_is_refused(owner_client):
    for upload_id in ["0" * 32, "../../etc/passwd"]:
        response = owner_client.post(IMPORT, {"upload": upload_id, "kind": "customers"})
        assert response.status_code == 302
    assert not Customer.objects.exists()
