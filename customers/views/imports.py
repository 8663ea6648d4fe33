"""CSV upload for Owners: preview (a dry run of every row), then import."""

from __future__ import annotations

import re
import uuid

from django.contrib import messages
from django.core.files.storage import default_storage
from django.shortcuts import redirect, render
from django.views import View

from ..forms import ImportForm
from ..imports import CsvFileError, CustomerImporter, PurchaseImporter
from ..roles import OwnerRequiredMixin

TEMPLATE = "customers/import.html"
UPLOAD = re.compile(r"^[0-9a-f]{32}$")


def make_importer(kind: str, *, create_missing: bool, dry_run: bool, by):
    if kind == ImportForm.Kind.PURCHASES:
        return PurchaseImporter(create_missing=create_missing, dry_run=dry_run, by=by)
    return CustomerImporter(dry_run=dry_run, by=by)


def upload_path(upload_id: str) -> str:
    return f"imports/{upload_id}.csv"


class ImportView(OwnerRequiredMixin, View):
    """POST "preview" stores the file and dry-runs it; POST "import" applies it."""

    def get(self, request):
        return render(request, TEMPLATE, {"form": ImportForm()})

    def post(self, request):
        if "upload" in request.POST:
            return self.run_import(request)
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, TEMPLATE, {"form": form})
        upload_id = uuid.uuid4().hex
        default_storage.save(upload_path(upload_id), form.cleaned_data["file"])
        options = {
            "kind": form.cleaned_data["kind"],
            "create_missing": form.cleaned_data["create_missing"],
        }
        try:
            report = self.run(upload_id, dry_run=True, by=request.user, **options)
        except CsvFileError as error:
            default_storage.delete(upload_path(upload_id))
            form.add_error("file", str(error))
            return render(request, TEMPLATE, {"form": form})
        return render(
            request,
            TEMPLATE,
            {
                "report": report,
                "upload": upload_id,
                "file_name": form.cleaned_data["file"].name,
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
        }
        try:
            report = self.run(upload_id, dry_run=False, by=request.user, **options)
        except CsvFileError as error:
            messages.error(request, str(error))
            return redirect("customers:import")
        finally:
            default_storage.delete(upload_path(upload_id))
        return render(request, TEMPLATE, {"report": report, "done": True, **options})

    @staticmethod
    def run(upload_id: str, *, dry_run: bool, by, kind: str, create_missing: bool):
        importer = make_importer(
            kind, create_missing=create_missing, dry_run=dry_run, by=by
        )
        with default_storage.open(upload_path(upload_id), "rb") as stream:
            return importer.run(stream)
