"""The nightly tasks: scheduled by beat, thin over their services, run by a worker."""

import os
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.db import connection
from django.utils import timezone

from crm.tests.test_celery_worker import base_env, start_worker
from customers.tests.factories import CustomerFactory
from loyalty import tasks
from loyalty.models import Membership, PointsEntry

from .factories import TierFactory, buy, run_program


@pytest.mark.parametrize(
    "task",
    [
        "loyalty.tasks.expire_points_task",
        "loyalty.tasks.grant_birthday_bonuses_task",
        "loyalty.tasks.recalculate_tiers_task",
    ],
)
def test_beat_runs_each_loyalty_task_nightly(task):
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == task]
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert isinstance(schedule, crontab)
    assert schedule.hour == {0}


@pytest.mark.django_db
def test_expire_task_expires_and_reports_points(program, customer):
    buy(customer, "40", at=timezone.now() - timedelta(days=400))
    assert tasks.expire_points_task() == 40
    assert tasks.expire_points_task() == 0


@pytest.mark.django_db
def test_tier_task_moves_members(program, customer):
    buy(customer, "100")
    TierFactory(name="Silver", threshold=Decimal("100"))
    assert tasks.recalculate_tiers_task() == 1
    assert Membership.objects.get(customer=customer).tier.name == "Silver"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("roles")
def test_a_real_worker_expires_points_sent_from_here():
    run_program()
    customer = CustomerFactory()
    buy(customer, "40", at=timezone.now() - timedelta(days=400))
    buy(customer, "15")
    env = base_env(
        REDIS_URL=os.environ["REDIS_URL"],
        DATABASE_URL=(
            "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict)
        ),
    )
    worker = start_worker(env)
    try:
        tasks.expire_points_task.delay()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if PointsEntry.objects.filter(kind="expire").exists():
                break
            time.sleep(0.3)
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
        print(output)
    assert PointsEntry.objects.get(kind="expire").points == -40
    assert Membership.objects.get(customer=customer).balance == 15
