"""Celery tasks of the customers app."""

from celery import shared_task

from . import import_jobs


@shared_task(acks_late=True)
def run_import_job(job_id: int) -> None:
    """Preview or import an uploaded CSV file (see customers.import_jobs)."""
    import_jobs.run_job(job_id)
