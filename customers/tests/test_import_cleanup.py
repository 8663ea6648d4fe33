"""Uploads previewed but never imported are deleted after the retention, with
their files; files left by finished jobs and by small previews go too."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from customers import import_jobs
from customers.models import ImportJob

pytestmark = pytest.mark.django_db

WEEK = timedelta(days=7)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(name: str, *, days_old: float) -> str:
    """A stored upload whose file was last written `days_old` days ago."""
    path = default_storage.save(f"imports/{name}.csv", ContentFile(b"reference\n"))
    moment = (timezone.now() - timedelta(days=days_old)).timestamp()
    os.utime(default_storage.path(path), (moment, moment))
    return path


def job(name: str, status: str, *, days_old: float) -> ImportJob:
    at = timezone.now() - timedelta(days=days_old)
    return ImportJob.objects.create(
        kind="customers",
        file_name=f"{name}.csv",
        stored_as=upload(name, days_old=days_old),
        status=status,
        created_at=at,
        finished_at=at if status not in ImportJob.RUNNING else None,
    )


def test_old_previews_go_with_their_files_and_recent_ones_stay():
    old = job("old", ImportJob.Status.PREVIEWED, days_old=8)
    recent = job("recent", ImportJob.Status.PREVIEWED, days_old=6)

    result = import_jobs.delete_stale_imports(older_than=WEEK)

    assert (result.jobs, result.files) == (1, 1)
    assert not ImportJob.objects.filter(pk=old.pk).exists()
    assert not default_storage.exists(old.stored_as)
    assert ImportJob.objects.filter(pk=recent.pk).exists()
    assert default_storage.exists(recent.stored_as)


def test_finished_jobs_stay_on_record_but_their_old_files_go():
    done = job("done", ImportJob.Status.DONE, days_old=10)
    failed = job("failed", ImportJob.Status.FAILED, days_old=10)
    fresh_failure = job("fresh", ImportJob.Status.FAILED, days_old=1)

    result = import_jobs.delete_stale_imports(older_than=WEEK)

    assert (result.jobs, result.files) == (0, 2)
    assert ImportJob.objects.count() == 3  # the history of imports is kept
    assert not default_storage.exists(done.stored_as)
    assert not default_storage.exists(failed.stored_as)
    assert default_storage.exists(fresh_failure.stored_as)


def test_a_small_preview_never_imported_leaves_no_file_behind():
    # Small uploads are previewed within the request: a file, no job.
    abandoned = upload("0" * 32, days_old=8)
    today = upload("1" * 32, days_old=0)

    result = import_jobs.delete_stale_imports(older_than=WEEK)

    assert result.files == 1
    assert not default_storage.exists(abandoned)
    assert default_storage.exists(today)


def test_jobs_still_waiting_keep_their_files_however_old():
    # A worker may be down for a while; its queue must still find the file.
    queued = job("queued", ImportJob.Status.IMPORT_QUEUED, days_old=30)
    checking = job("checking", ImportJob.Status.PREVIEW_QUEUED, days_old=30)

    assert import_jobs.delete_stale_imports(older_than=WEEK) == (
        import_jobs.ImportCleanup(jobs=0, files=0)
    )
    assert default_storage.exists(queued.stored_as)
    assert default_storage.exists(checking.stored_as)


def test_nothing_uploaded_yet_is_not_an_error():
    assert import_jobs.delete_stale_imports(older_than=WEEK) == (
        import_jobs.ImportCleanup(jobs=0, files=0)
    )
