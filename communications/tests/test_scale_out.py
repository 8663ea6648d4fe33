"""More than one machine: two Celery workers, separate processes with their own
hostnames, on one queue, one PostgreSQL and one Redis, sending one campaign of a
few thousand messages. Each message goes out exactly once, and both workers do
part of the work (each writes its e-mail to its own folder, so the split is
counted at the backend, not from our own bookkeeping)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from communications import services
from communications.models import FrequencyPolicy, Message, Status
from communications.planner import plan_outreach
from customers.models import Customer, Interaction

from .helpers import make_template
from .test_worker import (
    BROKER_URL,
    broker,  # noqa: F401 - a fixture
    manage,
    message_ids_at_backend,
    sent_count,
    start_worker,
    stop,
    wait_for,
    worker_env,
)

pytestmark = pytest.mark.django_db(transaction=True)
CAMPAIGN_SIZE = 2000


def test_the_workers_acknowledge_late_and_take_one_task_at_a_time():
    # What makes a second worker safe: a task is acknowledged after it ran (a
    # dead worker's task goes back to the queue) and none is hoarded.
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True


def test_two_workers_send_a_campaign_each_message_once_and_share_the_work(
    broker,  # noqa: F811 - the fixture imported above
    tmp_path,
    owner_user,
):
    midnight = timezone.datetime(2000, 1, 1).time()
    FrequencyPolicy.objects.create(pk=1, quiet_start=midnight, quiet_end=midnight)
    Customer.objects.bulk_create(
        Customer(
            first_name=f"Customer{n}",
            email=f"scale-out-{n}@example.com",
            email_opt_in=True,
        )
        for n in range(CAMPAIGN_SIZE)
    )
    services.save_campaign(
        name="Winter sale",
        template=make_template(),
        everyone=True,
        send_at=timezone.now() + timedelta(seconds=1),
        priority=50,
        by=owner_user,
    )
    time.sleep(1.2)
    assert plan_outreach().total == CAMPAIGN_SIZE

    folders = {name: tmp_path / name for name in ("machine-a", "machine-b")}
    workers = {}
    for name, folder in folders.items():
        folder.mkdir()
        workers[name] = start_worker(worker_env(BROKER_URL, folder), name)
    try:
        env = worker_env(BROKER_URL, tmp_path)
        manage(env, "dispatch_outreach", "--chunk-size", "50")
        assert wait_for(lambda: sent_count() == CAMPAIGN_SIZE, timeout=400, every=1)
    finally:
        for worker in workers.values():
            print(stop(worker)[-2000:])

    per_folder = {name: message_ids_at_backend(f) for name, f in folders.items()}
    everywhere: Counter = Counter()
    for found in per_folder.values():
        everywhere.update(found)
    split = {name: len(found) for name, found in per_folder.items()}
    print(f"sent by each worker: {split}")
    assert Message.objects.exclude(status=Status.SENT).count() == 0
    assert len(everywhere) == CAMPAIGN_SIZE
    assert max(everywhere.values()) == 1  # no message written twice
    stored = set(Message.objects.values_list("provider_id", flat=True))
    assert {mid.decode() for mid in everywhere} == stored
    # Both did real work: neither sent fewer than a tenth.
    assert min(split.values()) >= CAMPAIGN_SIZE // 10
    per_customer = Counter(
        Interaction.objects.filter(direction="outbound").values_list(
            "customer_id", flat=True
        )
    )
    assert len(per_customer) == CAMPAIGN_SIZE
    assert set(per_customer.values()) == {1}
