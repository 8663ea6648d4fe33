"""Large CSV uploads as Celery jobs: preview, confirm, import, with live progress.

Small files are checked and imported inside the web request (views/imports.py).
A large one becomes an ImportJob: a worker dry-runs it, the Owner reads the report
and confirms, a worker imports it. Progress lives in the cache because the rows
are written in transactions that nobody else can see until they commit (and a
dry run's never commits).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from .audit_actor import acting_as
from .csv_input import CsvFileError, Problem
from .customer_import import CustomerImporter
from .imports import CHANGES_KEPT, Change, Importer, ImportReport
from .interaction_import import InteractionImporter
from .models import ImportJob
from .purchase_import import PurchaseImporter

KINDS = ("customers", "purchases", "interactions")
# Where uploads wait (in default storage) between the preview and the import.
UPLOAD_FOLDER = "imports"
# Rejected rows kept with a job's report; the command line lists every one.
REPORT_PROBLEMS_KEPT = 1000
PROGRESS_EVERY_SECONDS = 0.5


# Defined beside the code that queues it (customers.tasks lists it too); the
# name stays the one queued jobs already carry.
@shared_task(name="customers.tasks.run_import_job", acks_late=True)
def run_import_job(job_id: int) -> None:
    """Preview or import an uploaded CSV file."""
    run_job(job_id)


def make_importer(
    kind: str,
    *,
    create_missing: bool,
    dry_run: bool,
    by,
    replace_tags: bool = False,
) -> Importer:
    if kind == "purchases":
        return PurchaseImporter(create_missing=create_missing, dry_run=dry_run, by=by)
    if kind == "interactions":
        return InteractionImporter(dry_run=dry_run, by=by)
    if kind == "customers":
        return CustomerImporter(replace_tags=replace_tags, dry_run=dry_run, by=by)
    raise ValueError(f"Unknown import kind {kind!r}")


def progress_key(job_id: int) -> str:
    return f"import-job:{job_id}:progress"


def read_progress(job_id: int) -> dict[str, Any]:
    return cache.get(progress_key(job_id)) or {"rows": 0, "total": None}


def report_to_json(report: ImportReport) -> dict[str, Any]:
    return {
        "dry_run": report.dry_run,
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected_count": report.rejected_count,
        "rejected": [
            [p.line, p.column, p.value, p.message]
            for p in report.rejected[:REPORT_PROBLEMS_KEPT]
        ],
        "updates": [[c.line, c.who, c.changes] for c in report.updates[:CHANGES_KEPT]],
        "notes": report.notes,
    }


def report_from_json(data: dict[str, Any]) -> ImportReport:
    rejected = [Problem(*values) for values in data.get("rejected", [])]
    return ImportReport(
        dry_run=data.get("dry_run", False),
        rows=data.get("rows", 0),
        created=data.get("created", 0),
        updated=data.get("updated", 0),
        unchanged=data.get("unchanged", 0),
        rejected=rejected,
        more_rejected=data.get("rejected_count", len(rejected)) - len(rejected),
        updates=[Change(*values) for values in data.get("updates", [])],
        notes=data.get("notes", []),
    )


def start_import_job(
    *,
    stored_as: str,
    file_name: str,
    kind: str,
    create_missing: bool,
    by,
    replace_tags: bool = False,
) -> ImportJob:
    """Queue a preview (dry run) of an uploaded file already saved to storage."""
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            create_missing=create_missing,
            replace_tags=replace_tags,
            file_name=file_name[:255],
            stored_as=stored_as,
            by=by,
        )
        run_import_job.delay_on_commit(job.pk)
    return job


def confirm_import_job(job: ImportJob) -> bool:
    """Queue the real import of a previewed job; False if it is not waiting."""
    with transaction.atomic():
        claimed = ImportJob.objects.filter(
            pk=job.pk, status=ImportJob.Status.PREVIEWED
        ).update(status=ImportJob.Status.IMPORT_QUEUED)
        if claimed:
            run_import_job.delay_on_commit(job.pk)
    return bool(claimed)


def run_job(job_id: int) -> None:
    """Do whatever the job waits for; safe to call twice (a redelivered task).

    The conditional UPDATE claims the job: a second delivery finds it no longer
    queued and does nothing.
    """
    claims = {
        ImportJob.Status.PREVIEW_QUEUED: ImportJob.Status.PREVIEWING,
        ImportJob.Status.IMPORT_QUEUED: ImportJob.Status.IMPORTING,
    }
    for queued, running in claims.items():
        if ImportJob.objects.filter(pk=job_id, status=queued).update(status=running):
            break
    else:
        return
    job = ImportJob.objects.get(pk=job_id)
    dry_run = running == ImportJob.Status.PREVIEWING
    importer = make_importer(
        job.kind,
        create_missing=job.create_missing,
        replace_tags=job.replace_tags,
        dry_run=dry_run,
        by=job.by,
    )
    last_write = 0.0
    total: int | None = None

    def on_total(rows: int) -> None:
        nonlocal total
        total = rows
        cache.set(progress_key(job_id), {"rows": 0, "total": total}, 3600)

    def on_progress(rows: int) -> None:
        nonlocal last_write
        now = time.monotonic()
        if now - last_write >= PROGRESS_EVERY_SECONDS:
            cache.set(progress_key(job_id), {"rows": rows, "total": total}, 3600)
            last_write = now

    cache.set(progress_key(job_id), {"rows": 0, "total": None}, 3600)
    try:
        # The audit trail names the Owner who uploaded the file, not the worker.
        with (
            acting_as(job.by, origin=f"import-job:{job.pk}"),
            default_storage.open(job.stored_as, "rb") as stream,
        ):
            report = importer.run(stream, progress=on_progress, on_total=on_total)
    except CsvFileError as error:
        finish(job, ImportJob.Status.FAILED, error=str(error))
        return
    except Exception:
        finish(
            job,
            ImportJob.Status.FAILED,
            error="The import stopped on an unexpected error; rows imported before "
            "it are kept (each row is all or nothing). Try again, or use the "
            "import command to see the details.",
        )
        raise
    cache.set(progress_key(job_id), {"rows": report.rows, "total": report.rows}, 3600)
    finish(
        job,
        ImportJob.Status.PREVIEWED if dry_run else ImportJob.Status.DONE,
        report=report_to_json(report),
    )


def finish(job: ImportJob, status: str, *, report=None, error: str = "") -> None:
    if ImportJob.objects.filter(pk=job.pk, error=ERASED_FILE_ERROR).exists():
        # An erasure stopped the job while it ran: its report would name them.
        default_storage.delete(job.stored_as)
        return
    job.status = status
    job.report = report or job.report
    job.error = error
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "report", "error", "finished_at"])
    if status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        default_storage.delete(job.stored_as)


def inline_limit_bytes() -> int:
    return settings.IMPORT_INLINE_MAX_KB * 1024


@dataclass(frozen=True)
class ImportCleanup:
    jobs: int
    files: int


def delete_stale_imports(
    *, older_than: timedelta, now: datetime | None = None
) -> ImportCleanup:
    """Delete previews nobody imported within `older_than`, and upload files
    older than that which no waiting job needs.

    The files include small uploads previewed within a request and never
    imported (they have no job) and any file a done or failed job left behind.
    The jobs go in one transaction (durable: committed before their files go);
    a job confirmed meanwhile is no longer "previewed" and stays.
    """
    cutoff = (now or timezone.now()) - older_than
    with transaction.atomic(durable=True):
        stale = ImportJob.objects.filter(
            status=ImportJob.Status.PREVIEWED, finished_at__lt=cutoff
        )
        # skip_locked: a confirmation updating the row right now wins.
        pks = list(stale.select_for_update(skip_locked=True).values_list("pk"))
        jobs, _ = stale.filter(pk__in=[pk for (pk,) in pks]).delete()
    return ImportCleanup(jobs=jobs, files=_delete_old_upload_files(cutoff))


def _delete_old_upload_files(cutoff: datetime) -> int:
    try:
        _, names = default_storage.listdir(UPLOAD_FOLDER)
    except FileNotFoundError:
        return 0
    needed = set(
        ImportJob.objects.exclude(
            status__in=[ImportJob.Status.DONE, ImportJob.Status.FAILED]
        ).values_list("stored_as", flat=True)
    )
    deleted = 0
    for name in names:
        path = f"{UPLOAD_FOLDER}/{name}"
        if path in needed:
            continue
        try:
            if default_storage.get_modified_time(path) >= cutoff:
                continue
            default_storage.delete(path)
        except FileNotFoundError:  # removed meanwhile (the import finished)
            continue
        deleted += 1
    return deleted


ERASED_FILE_ERROR = (
    "This file held the data of a customer whose personal data was then erased, "
    "so it was deleted. Upload the file again, without them."
)
ERASED_ROWS_NOTE = (
    "Rows about a customer whose personal data was erased were removed from this "
    "report."
)
_SCAN_BYTES = 1 << 20


def _mentions(text: str, needles: set[str]) -> bool:
    text = text.lower()
    return any(needle in text for needle in needles)


def _file_mentions(path: str, needles: set[str]) -> bool:
    """Whether the stored upload holds any needle (UTF-8 or Windows-1252)."""
    patterns = {
        encoded
        for needle in needles
        for encoding in ("utf-8", "cp1252")
        if (encoded := needle.encode(encoding, errors="ignore"))
    }
    overlap = max(len(pattern) for pattern in patterns) - 1
    tail = b""
    with default_storage.open(path, "rb") as stream:
        while chunk := stream.read(_SCAN_BYTES):
            window = (tail + chunk).lower()
            if any(pattern in window for pattern in patterns):
                return True
            tail = window[-overlap:] if overlap else b""
    return False


def forget_in_imports(needles: set[str]) -> dict[str, int]:
    """Remove an erased customer from import reports and from uploads waiting
    to be imported; the caller's transaction holds the customer's lock.

    `needles` are what identifies them in a file (email, reference, phone, full
    name), matched in any letter case. A report keeps its counts and loses the
    rows that name them; an upload that names them is deleted once the erasure
    commits (a file cannot be rolled back) and its waiting job fails, saying why.
    """
    needles = {needle.strip().lower() for needle in needles if needle.strip()}
    if not needles:
        return {"import_reports": 0, "import_files": 0}
    reports = 0
    for job in ImportJob.objects.exclude(report={}).select_for_update():
        if not _mentions(str(job.report), needles):
            continue
        report = dict(job.report)
        for part in ("updates", "rejected"):
            report[part] = [
                row for row in report.get(part, []) if not _mentions(str(row), needles)
            ]
        report["notes"] = [*report.get("notes", []), ERASED_ROWS_NOTE]
        job.report = report
        job.save(update_fields=["report"])
        reports += 1
    try:
        _, names = default_storage.listdir(UPLOAD_FOLDER)
    except FileNotFoundError:
        names = []
    doomed = []
    for name in names:
        path = f"{UPLOAD_FOLDER}/{name}"
        try:
            if _file_mentions(path, needles):
                doomed.append(path)
        except FileNotFoundError:  # imported and removed meanwhile
            continue
    ImportJob.objects.filter(stored_as__in=doomed).exclude(
        status__in=[ImportJob.Status.DONE, ImportJob.Status.FAILED]
    ).update(
        status=ImportJob.Status.FAILED,
        error=ERASED_FILE_ERROR,
        finished_at=timezone.now(),
    )
    transaction.on_commit(lambda: [default_storage.delete(p) for p in doomed])
    return {"import_reports": reports, "import_files": len(doomed)}
