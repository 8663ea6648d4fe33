"""Imports name their user in the audit trail: a Celery import job acts as the
Owner who uploaded the file, an import command as its --as-user (or the system),
each with an origin that names the job or the command."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from crm.audit.models import AuditEvent
from customers.models import Customer, ImportJob, Purchase
from customers.tasks import run_import_job
from customers.tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

PURCHASES = "customer,occurred_at,amount,reference\nC-1,2024-03-01,12.50,A-1\n"
PURCHASES_2 = "customer,occurred_at,amount,reference\nC-1,2024-03-02,8.00,A-2\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def purchase_events():
    return AuditEvent.objects.of_table("customers_purchase").filter(action="insert")


def test_an_import_job_run_by_its_task_acts_as_the_owner_who_uploaded_it(
    owner_user,
):
    CustomerFactory(reference="C-1")
    job = ImportJob.objects.create(
        kind="purchases",
        file_name="p.csv",
        stored_as=default_storage.save("imports/p.csv", ContentFile(PURCHASES)),
        by=owner_user,
    )
    run_import_job.apply(args=[job.pk])  # the preview: a dry run, nothing kept
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED
    assert not purchase_events().exists()

    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.IMPORT_QUEUED)
    # apply() runs the task with Celery's signals, so the worker's own
    # "task:..." origin is there too; the job's is the innermost and wins.
    run_import_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE

    purchase = Purchase.objects.get(reference="A-1")
    (event,) = purchase_events().filter(row_id=str(purchase.pk))
    assert (event.actor_id, event.origin) == (owner_user.pk, f"import-job:{job.pk}")
    # The customer's running figures changed in the same import, same author.
    figures = AuditEvent.objects.of_row("customers_customer", purchase.customer_id)
    assert {(e.actor_id, e.origin) for e in figures.filter(action="update")} == {
        (owner_user.pk, f"import-job:{job.pk}")
    }


def test_import_purchases_as_user_records_that_user_and_the_command(
    owner_user, tmp_path
):
    CustomerFactory(reference="C-1")
    path = tmp_path / "purchases.csv"
    path.write_text(PURCHASES)
    call_command("import_purchases", str(path), as_user=owner_user.username)

    purchase = Purchase.objects.get(reference="A-1")
    (event,) = purchase_events().filter(row_id=str(purchase.pk))
    assert (event.actor_id, event.origin) == (owner_user.pk, "command:import_purchases")


def test_an_import_command_without_as_user_is_the_systems_but_names_itself(
    tmp_path,
):
    path = tmp_path / "customers.csv"
    path.write_text("reference,email\nZ-1,z@example.com\n")
    call_command("import_customers", str(path))

    customer = Customer.objects.get(reference="Z-1")
    event = AuditEvent.objects.of_row("customers_customer", customer.pk).get(
        action="insert"
    )
    assert (event.actor_id, event.origin) == (None, "command:import_customers")


def test_as_user_must_name_an_existing_active_user(roles, tmp_path):
    CustomerFactory(reference="C-1")
    path = tmp_path / "purchases.csv"
    path.write_text(PURCHASES_2)
    UserFactory(username="gone", is_active=False)

    with pytest.raises(CommandError, match="no user has the username 'nobody'"):
        call_command("import_purchases", str(path), as_user="nobody")
    with pytest.raises(CommandError, match="'gone' is deactivated"):
        call_command("import_purchases", str(path), as_user="gone")
    assert not Purchase.objects.exists()  # refused before reading the file
