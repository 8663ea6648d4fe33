"""CSV upload for Owners: preview (a dry run of every row), then import.

A small file is checked and imported within the request; a large one becomes a
Celery job whose page shows a progress bar and then the same report.
"""

from __future__ import annotations

import re
import uuid

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from .. import import_jobs
from ..csv_input import CsvFileError
from ..forms import ImportForm
from ..models import ImportJob
from ..roles import OwnerRequiredMixin

TEMPLATE = "customers/import.html"
UPLOAD = re.compile(r"^[0-9a-f]{32}$")


def upload_path(upload_id: str) -> str:
    return f"{import_jobs.UPLOAD_FOLDER}/{upload_id}.csv"


class ImportView(OwnerRequiredMixin, View):
    """POST "preview" stores the file and dry-runs it; POST "import" applies it."""

    def get(self, request):
        return render(request, TEMPLATE, {"form": ImportForm(), "jobs": recent_jobs()})

    def post(self, request):
        if "upload" in request.POST:
            return self.run_import(request)
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, TEMPLATE, {"form": form, "jobs": recent_jobs()})
        upload = form.cleaned_data["file"]
        upload_id = uuid.uuid4().hex
        stored_as = default_storage.save(upload_path(upload_id), upload)
        options = {
            "kind": form.cleaned_data["kind"],
            "create_missing": form.cleaned_data["create_missing"],
            "replace_tags": form.cleaned_data["replace_tags"],
        }
        if upload.size > import_jobs.inline_limit_bytes():
            job = import_jobs.start_import_job(
                stored_as=stored_as, file_name=upload.name, by=request.user, **options
            )
            return redirect("customers:import-job", job.pk)
        try:
            report = self.run(upload_id, dry_run=True, by=request.user, **options)
        except CsvFileError as error:
            default_storage.delete(upload_path(upload_id))
            form.add_error("file", str(error))
            return render(request, TEMPLATE, {"form": form, "jobs": recent_jobs()})
        return render(
            request,
            TEMPLATE,
            {
                "report": report,
                "upload": upload_id,
                "file_name": upload.name,
                **options,
            },
        )

    def run_import(self, request):
        upload_id = request.POST["upload"]
        if not UPLOAD.match(upload_id) or not default_storage.exists(
            upload_path(upload_id)
        ):
            messages.error(request, "That upload has expired: choose the file again.")
            return redirect("customers:import")
        options = {
            "kind": request.POST.get("kind", ""),
            "create_missing": request.POST.get("create_missing") == "True",
            "replace_tags": request.POST.get("replace_tags") == "True",
        }
        if options["kind"] not in import_jobs.KINDS:
            messages.error(request, "Choose what the file holds and upload it again.")
            return redirect("customers:import")
        try:
            report = self.run(upload_id, dry_run=False, by=request.user, **options)
        except CsvFileError as error:
            messages.error(request, str(error))
            return redirect("customers:import")
        finally:
            default_storage.delete(upload_path(upload_id))
        return render(request, TEMPLATE, {"report": report, "done": True, **options})

    @staticmethod
    def run(
        upload_id: str,
        *,
        dry_run: bool,
        by,
        kind: str,
        create_missing: bool,
        replace_tags: bool,
    ):
        importer = import_jobs.make_importer(
            kind,
            create_missing=create_missing,
            replace_tags=replace_tags,
            dry_run=dry_run,
            by=by,
        )
        with default_storage.open(upload_path(upload_id), "rb") as stream:
            return importer.run(stream)


def recent_jobs():
    return ImportJob.objects.select_related("by")[:10]


class ImportJobView(OwnerRequiredMixin, View):
    """A large upload's progress, its report, and the button that imports it."""

    def get(self, request, pk: int):
        job = get_object_or_404(ImportJob, pk=pk)
        return render(
            request,
            "customers/import_job.html",
            {
                "job": job,
                "report": import_jobs.report_from_json(job.report)
                if job.report
                else None,
                "progress": import_jobs.read_progress(job.pk),
                "done": job.status == ImportJob.Status.DONE,
            },
        )

    def post(self, request, pk: int):
        job = get_object_or_404(ImportJob, pk=pk)
        if import_jobs.confirm_import_job(job):
            messages.success(request, "The import has started.")
        else:
            messages.error(request, "This file is not waiting to be imported.")
        return redirect("customers:import-job", job.pk)


class ImportJobProgressView(OwnerRequiredMixin, View):
    """What the progress bar polls: status and rows done, as JSON."""

    def get(self, request, pk: int):
        job = get_object_or_404(ImportJob.objects.only("pk", "status"), pk=pk)
        progress = import_jobs.read_progress(job.pk)
        return JsonResponse(
            {
                "status": job.status,
                "status_label": job.get_status_display(),
                "running": job.running,
                "rows": progress["rows"],
                "total": progress["total"],
            }
        )
