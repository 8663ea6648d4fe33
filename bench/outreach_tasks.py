"""The benchmark's baseline: a Celery task that does nothing but note its time.

Loaded into the benchmark's worker with ``celery worker -I bench.outreach_tasks``;
the application itself never imports it.
"""

import time

import redis
from celery import shared_task
from django.conf import settings


@shared_task(name="bench.noop")
def noop(mark: str = "") -> None:
    if mark:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        client.set(f"bench:{mark}", time.time())
