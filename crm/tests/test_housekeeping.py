"""Housekeeping: stored idempotent API responses and never-imported uploads are
deleted after their retention by one task that beat runs every hour."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from crm.api.services import delete_old_idempotency_records
from crm.models import IdempotencyRecord
from crm.tasks import housekeeping_task
from customers.models import ImportJob

pytestmark = pytest.mark.django_db


def record(user, key: str, *, hours_old: float) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        user=user,
        key=key,
        method="POST",
        path="/api/v1/customers/",
        fingerprint="0" * 64,
        status_code=201,
        response_body={"id": 1},
        created_at=timezone.now() - timedelta(hours=hours_old),
    )


def test_idempotency_records_older_than_the_retention_go(staff_user):
    old = record(staff_user, "old", hours_old=25)
    recent = record(staff_user, "recent", hours_old=23)

    assert delete_old_idempotency_records(older_than=timedelta(hours=24)) == 1

    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()


def test_the_task_applies_both_retentions_from_the_settings(
    settings, tmp_path, staff_user
):
    settings.MEDIA_ROOT = tmp_path
    settings.IDEMPOTENCY_RETENTION_HOURS = 2
    settings.IMPORT_UPLOAD_RETENTION_DAYS = 3
    record(staff_user, "old", hours_old=3)
    kept = record(staff_user, "recent", hours_old=1)
    stored = default_storage.save("imports/p.csv", ContentFile(b"reference\n"))
    moment = (timezone.now() - timedelta(days=4)).timestamp()
    os.utime(default_storage.path(stored), (moment, moment))
    ImportJob.objects.create(
        kind="customers",
        file_name="p.csv",
        stored_as=stored,
        status=ImportJob.Status.PREVIEWED,
        finished_at=timezone.now() - timedelta(days=4),
    )

    summary = housekeeping_task.apply().get()

    assert summary == (
        "1 idempotency records, 1 import previews, 1 upload files deleted"
    )
    assert list(IdempotencyRecord.objects.all()) == [kept]
    assert not ImportJob.objects.exists()
    assert not default_storage.exists(stored)


def test_beat_runs_housekeeping_every_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["housekeeping"]
    assert entry["task"] == housekeeping_task.name
    assert entry["schedule"].minute == {40}
    assert entry["schedule"].hour == set(range(24))
