"""Project-wide background tasks."""

from celery import shared_task
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
