"""Redis away: pages and purchases keep working from the database.

Redis is the cache (sessions are cached_db, so also in the database), the
broker and the throttle store. A stopped Redis must not turn a purchase into a
500: nothing about recording a purchase needs the broker (outreach is planned
from the database), and the cache falls back to misses (crm/cache.py).
"""

import shutil
import socket
import subprocess
import time as clock
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from communications.models import FrequencyPolicy, Message, Status
from communications.planner import plan_outreach
from communications.sender import send_chunk
from communications.tests.helpers import consenting_customer, make_rule
from crm.cache import ResilientRedisCache
from customers.models import Customer, Purchase

PORT = 6393  # a private server: the shared one on 6379 stays up


def free_port(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def private_redis(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is missing: install Debian's redis-server.")
    assert free_port(PORT)

    def start():
        process = subprocess.Popen(
            [server, "--port", str(PORT), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            if not free_port(PORT):
                return process
            clock.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    state = {"process": start()}

    def stop():
        state["process"].kill()
        state["process"].wait()

    def restart():
        state["process"] = start()

    yield stop, restart
    state["process"].kill()
    state["process"].wait()


def test_the_cache_reads_miss_and_writes_skip_while_redis_is_away(private_redis):
    stop, restart = private_redis
    cache = ResilientRedisCache(f"redis://127.0.0.1:{PORT}/0", {})
    cache.set("k", "v")
    assert cache.get("k") == "v"
    stop()
    assert cache.get("k", "missing") == "missing"
    cache.set("k", "w")  # no error
    assert cache.get_many(["k"]) == {}
    assert cache.delete("k") is False
    restart()
    cache.set("k", "x")
    assert cache.get("k") == "x"


@pytest.mark.django_db
def test_a_purchase_is_recorded_while_redis_is_down_and_thanked_after(
    client, staff_user, settings, mailoutbox
):
    settings.CACHES = {
        "default": {
            "BACKEND": "crm.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{PORT}/0",  # nothing listens here
        }
    }
    assert free_port(PORT)
    caches["default"].close()
    make_rule("thank_you", 0)
    policy = FrequencyPolicy.current()
    policy.quiet_start = policy.quiet_end = time(0, 0)  # no quiet hours here
    policy.save()
    customer = consenting_customer()
    client.force_login(staff_user)
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 200
    response = client.post(
        reverse("customers:purchase-create", args=[customer.pk]),
        {
            "amount": "25.00",
            "occurred_at": (timezone.localtime() - timedelta(hours=1)).strftime(
                "%Y-%m-%d %H:%M"
            ),
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert Purchase.objects.get().amount == Decimal("25.00")
    assert Customer.objects.get(pk=customer.pk).orders_count == 1

    # Redis is back: beat's planner finds the purchase in the database, and a
    # worker sends the thank-you (here called directly, as the task would).
    plan_outreach()
    plan_outreach()  # a second run plans nothing new
    send_chunk(Message.objects.values_list("pk", flat=True))
    thanked = [m for m in mailoutbox if m.to == [customer.email]]
    sent = Message.objects.filter(customer=customer, status=Status.SENT).count()
    print(f"lost = {1 - sent}, duplicated = {len(thanked) - 1}")
    assert (sent, len(thanked)) == (1, 1)
