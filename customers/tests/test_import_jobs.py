"""Large uploads run as Celery jobs: preview, confirm, import, with progress."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from customers import import_jobs
from customers.models import Customer, ImportJob, Interaction, Purchase
from customers.tests.factories import CustomerFactory

from .test_views_import import IMPORT, preview

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored(text: str) -> str:
    return default_storage.save("imports/job.csv", ContentFile(text.encode()))


def purchases_file(rows: int) -> str:
    lines = ["customer,occurred_at,amount,reference"]
    lines += [f"C-1,2024-01-01T10:{n // 60 % 60:02d}:{n % 60:02d},1.00,J-{n}"
              for n in range(rows)]  # fmt: skip
    lines.append("C-404,2024-01-02,5.00,J-X")
    return "\n".join(lines) + "\n"


@pytest.mark.django_db
def test_a_job_previews_then_imports_and_a_redelivery_does_nothing(owner_user):
    CustomerFactory(reference="C-1")
    job = ImportJob.objects.create(
        kind="purchases", file_name="p.csv", stored_as=stored(purchases_file(30)),
        by=owner_user,
    )  # fmt: skip
    import_jobs.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED
    assert (job.report["created"], job.report["rejected_count"]) == (30, 1)
    assert job.report["rejected"] == [
        [32, "customer", "C-404",
         "No customer has this reference or email (import customers first, or "
         "let the import create missing customers)."],
    ]  # fmt: skip
    assert not Purchase.objects.exists()  # a preview writes nothing
    assert import_jobs.read_progress(job.pk) == {"rows": 31, "total": 31}

    assert import_jobs.confirm_import_job(job)
    assert not import_jobs.confirm_import_job(job)  # only once
    import_jobs.run_job(job.pk)
    import_jobs.run_job(job.pk)  # the task delivered twice
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert Purchase.objects.count() == 30
    assert Customer.objects.get().orders_count == 30
    assert not default_storage.exists(job.stored_as)


@pytest.mark.django_db
def test_an_unreadable_file_fails_the_job_with_the_reason(owner_user):
    job = ImportJob.objects.create(
        kind="customers", file_name="c.csv", stored_as=stored("name,colour\nA,red\n")
    )
    import_jobs.run_job(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "unknown columns: name, colour" in job.error
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_interactions_file_through_a_job(owner_user):
    CustomerFactory(reference="C-1")
    text = "customer,occurred_at,kind,subject,by\nC-1,2024-03-01,call,Hello,olive\n"
    job = ImportJob.objects.create(
        kind="interactions", file_name="i.csv", stored_as=stored(text),
        status=ImportJob.Status.IMPORT_QUEUED,
    )  # fmt: skip
    import_jobs.run_job(job.pk)
    assert Interaction.objects.get().by == owner_user


@pytest.mark.django_db
def test_a_large_upload_becomes_a_job_with_a_progress_page(
    owner_client, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_INLINE_MAX_KB = 0
    with django_capture_on_commit_callbacks() as callbacks:
        response = preview(owner_client, "reference,email\nC-1,a@example.com\n")
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("customers:import-job", args=[job.pk])
    assert len(callbacks) == 1  # the task is queued once the job is stored
    page = owner_client.get(response.url).content.decode()
    assert 'id="import-progress"' in page
    assert reverse("customers:import-job-progress", args=[job.pk]) in page
    state = owner_client.get(
        reverse("customers:import-job-progress", args=[job.pk])
    ).json()
    assert state["running"] and state["status"] == "preview_queued"

    import_jobs.run_job(job.pk)  # what the worker does
    page = owner_client.get(response.url).content.decode()
    assert "nothing has been written yet" in page and "Import 1 row now" in page
    assert owner_client.get(IMPORT).context["jobs"][0] == job

    owner_client.post(response.url)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.IMPORT_QUEUED


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool=solo",
         "--loglevel=warning", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_job_and_reports_progress(owner_user, media):
    """The worker shares this test's database, cache and broker (Redis).

    A customers file goes in row by row: slow enough to watch progress move.
    """
    from django.conf import settings

    rows = 400
    text = "reference,first_name,email\n" + "".join(
        f"P-{n},Person {n},p{n}@example.com\n" for n in range(rows)
    )
    name = connection.settings_dict["NAME"]
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "crm.settings_test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
        "REDIS_URL": settings.REDIS_URL,
        "MEDIA_ROOT": str(media),
    }
    job = import_jobs.start_import_job(
        stored_as=stored(text), file_name="big.csv", kind="customers",
        create_missing=False, by=owner_user,
    )  # fmt: skip
    worker = start_worker(env)
    seen = set()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            job.refresh_from_db()
            seen.add(import_jobs.read_progress(job.pk)["rows"])
            if job.status == ImportJob.Status.PREVIEWED:
                break
            time.sleep(0.05)
        assert job.status == ImportJob.Status.PREVIEWED, job.error
        assert job.report["created"] == rows
        assert not Customer.objects.exists()

        import_jobs.confirm_import_job(job)
        while time.monotonic() < deadline:
            job.refresh_from_db()
            seen.add(import_jobs.read_progress(job.pk)["rows"])
            if job.status == ImportJob.Status.DONE:
                break
            time.sleep(0.05)
        assert job.status == ImportJob.Status.DONE, job.error
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
        print(output)
    assert Customer.objects.count() == rows
    # Progress moved in steps between nothing and everything.
    assert any(0 < done < rows for done in seen), seen
    assert rows in seen
    cache.delete(import_jobs.progress_key(job.pk))


@pytest.mark.django_db
def test_a_200_mb_upload_is_stored_and_queued_not_read_in_the_request(
    owner_client, media, django_capture_on_commit_callbacks
):
    row = b"C-1,2024-01-01T10:00:00,12.50,ORD-%08d,shop\n"
    rows = 200 * 1024 * 1024 // len(row % 0)
    data = b"customer,occurred_at,amount,reference,channel\n" + b"".join(
        row % n for n in range(rows)
    )
    upload = SimpleUploadedFile("big.csv", data, content_type="text/csv")
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(IMPORT, {"kind": "purchases", "file": upload})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.status == "preview_queued"
    assert len(callbacks) == 1  # the worker reads it, not the web request
    assert default_storage.size(job.stored_as) == len(data)
    assert not Purchase.objects.exists()
