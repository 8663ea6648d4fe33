from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ImportJob(models.Model):
    """A CSV upload too large to check and import within one web request.

    A Celery worker previews it (a dry run), the Owner confirms, and a worker
    imports it; the page shows the progress (kept in the cache, since the rows
    are written in transactions the page cannot see into) and then the report.
    """

    class Status(models.TextChoices):
        PREVIEW_QUEUED = "preview_queued", "Waiting to be checked"
        PREVIEWING = "previewing", "Checking"
        PREVIEWED = "previewed", "Checked: waiting for you"
        IMPORT_QUEUED = "import_queued", "Waiting to be imported"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    RUNNING = {
        Status.PREVIEW_QUEUED,
        Status.PREVIEWING,
        Status.IMPORT_QUEUED,
        Status.IMPORTING,
    }

    kind = models.CharField(max_length=16)
    create_missing = models.BooleanField(default=False)
    # A customers file's tags cell replaces the customer's tags (blank: none).
    replace_tags = models.BooleanField(default=False)
    file_name = models.CharField(max_length=255)
    stored_as = models.CharField(max_length=100, editable=False)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PREVIEW_QUEUED
    )
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="import_jobs",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import of {self.file_name}"

    def get_kind_display(self) -> str:
        return self.kind.capitalize()

    @property
    def running(self) -> bool:
        return self.status in self.RUNNING
