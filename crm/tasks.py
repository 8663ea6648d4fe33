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
