"""Project-wide background tasks."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "crm:worker-heartbeat"


@shared_task
def record_worker_heartbeat() -> str:
    """Beat sends this every minute; its time shows that worker and beat both run."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now


@shared_task
def refresh_clv_fit_task() -> str:
    """Nightly: fit the lifetime value models on data up to yesterday, store them.

    The dashboard reads the stored fit; fitting (seconds) never happens on a page
    view. After the fit, the dashboard's default view is computed once so the
    first owner of the morning finds it ready.
    """
    from crm.metrics.report import warm_default_report
    from crm.metrics.services import refresh_clv_fit

    fit = refresh_clv_fit()
    warm_default_report()
    return f"{fit.get_status_display()}: {fit.customers_used} customers"


@shared_task
def housekeeping_task() -> str:
    """Hourly: delete what is only kept for a while.

    API idempotency records after IDEMPOTENCY_RETENTION_HOURS (a retry comes
    within minutes), and import uploads previewed but never imported, with
    their files, after IMPORT_UPLOAD_RETENTION_DAYS.
    """
    from crm.api.services import delete_old_idempotency_records
    from customers.import_jobs import delete_stale_imports

    records = delete_old_idempotency_records(
        older_than=timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS)
    )
    imports = delete_stale_imports(
        older_than=timedelta(days=settings.IMPORT_UPLOAD_RETENTION_DAYS)
    )
    return (
        f"{records} idempotency records, {imports.jobs} import previews, "
        f"{imports.files} upload files deleted"
    )
