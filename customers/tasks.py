"""Celery tasks of the customers app (each defined beside the code queuing it)."""

from .import_jobs import run_import_job

__all__ = ["run_import_job"]
