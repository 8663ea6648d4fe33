"""Real Celery workers against real Redis and PostgreSQL, and a real email backend
in files (a worker is a separate process, so sends are counted at the backend).

- a worker sends planned messages, each once, with the timeline updated;
- a worker killed with SIGKILL mid-batch, then started again: every message is
  sent exactly once (the sweeper reconciles the one it died holding);
- Redis restarted (queue lost) between planning and sending: nothing is lost.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.utils import timezone

from communications.models import FrequencyPolicy, Message, Status
from communications.planner import plan_outreach
from customers.models import Customer, Interaction

from .helpers import make_rule

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
# Redis database 10 is this suite's broker (14 is crm's worker test); two test
# runs at once on one machine need their own (TEST_BROKER_URL), or each run's
# workers take the other's tasks.
BROKER_URL = os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/10")
PRIVATE_REDIS_PORT = 6390
MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>]+>)", re.MULTILINE)


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def worker_env(broker_url: str, email_dir: Path, **extra: str) -> dict:
    return {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "ENV_FILE": str(ROOT / "no-such.env"),
        "DEBUG": "true",
        "DATABASE_URL": database_url(),
        "REDIS_URL": broker_url,
        # django-environ drops the first "/" of the path: four slashes, absolute.
        "EMAIL_URL": f"filemail:///{email_dir}",
        "TIME_ZONE": "UTC",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def start_worker(env: dict, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool=solo",
            "--loglevel=warning", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "-n", f"{name}@%h",
        ],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


def manage(env: dict, *args: str) -> str:
    """Run a management command as beat (or an operator) would, in its own process."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


def wait_for(condition, timeout: float = 120.0, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def sent_count() -> int:
    return Message.objects.filter(status=Status.SENT).count()


def message_ids_at_backend(email_dir: Path) -> Counter:
    """How many times each Message-ID was written by the file email backend."""
    found: Counter = Counter()
    for path in email_dir.glob("*.log"):
        found.update(MESSAGE_ID.findall(path.read_bytes()))
    return found


def plan_messages(count: int) -> list[Message]:
    """`count` customers due for a check-in, planned on the real clock."""
    midnight = timezone.datetime(2000, 1, 1).time()
    FrequencyPolicy.objects.create(pk=1, quiet_start=midnight, quiet_end=midnight)
    make_rule("check_in", 30)
    long_ago = timezone.now() - timedelta(days=100)
    Customer.objects.bulk_create(
        Customer(
            first_name=f"Customer{n}",
            email=f"worker-test-{n}@example.com",
            email_opt_in=True,
            created_at=long_ago,
        )
        for n in range(count)
    )
    assert plan_outreach().total == count
    return list(Message.objects.all())


def assert_each_sent_exactly_once(email_dir: Path, messages: list[Message]) -> None:
    at_backend = message_ids_at_backend(email_dir)
    stored = dict(Message.objects.values_list("pk", "provider_id"))
    assert Message.objects.exclude(status=Status.SENT).count() == 0
    duplicates = {mid: n for mid, n in at_backend.items() if n > 1}
    lost = len(messages) - len(at_backend)
    print(f"lost = {lost}, duplicated = {sum(n - 1 for n in duplicates.values())}")
    assert duplicates == {}
    assert len(at_backend) == len(messages)
    assert {value.encode() for value in stored.values()} == set(at_backend)
    per_customer = Counter(
        Interaction.objects.filter(direction="outbound").values_list(
            "customer_id", flat=True
        )
    )
    assert set(per_customer.values()) == {1}
    assert len(per_customer) == len(messages)


@pytest.fixture
def broker():
    client = redis.Redis.from_url(BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def email_dir(tmp_path):
    folder = tmp_path / "sent-email"
    folder.mkdir()
    return folder


def test_a_real_worker_sends_planned_messages_through_redis(broker, email_dir):
    messages = plan_messages(20)
    env = worker_env(BROKER_URL, email_dir)
    worker = start_worker(env, "outreach-basic")
    try:
        manage(env, "dispatch_outreach", "--chunk-size", "7")
        assert wait_for(lambda: sent_count() == 20, timeout=90)
    finally:
        print(stop(worker))
    assert_each_sent_exactly_once(email_dir, messages)
    body = b"".join(path.read_bytes() for path in email_dir.glob("*.log"))
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in body


@pytest.mark.fault
def test_a_worker_killed_mid_batch_and_restarted_sends_each_message_once(
    broker, email_dir
):
    messages = plan_messages(400)
    env = worker_env(BROKER_URL, email_dir)
    worker = start_worker(env, "outreach-killed")
    try:
        manage(env, "dispatch_outreach", "--chunk-size", "100")
        assert wait_for(lambda: sent_count() >= 40, timeout=90)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        print(stop(worker))
    at_kill = Counter(Message.objects.values_list("status", flat=True))
    print("Statuses when the worker was killed:", dict(at_kill))
    assert at_kill[Status.SENT] < len(messages), "it finished before it was killed"
    # The dead worker's chunk is unacknowledged in Redis; the chunks it had not
    # started are still queued. The sweeper (run here with no age limit, since
    # no worker is alive) reconciles any message it died holding.
    print(manage(env, "sweep_outbox", "--older-than", "0"))
    assert Message.objects.filter(status=Status.SENDING).count() == 0
    restarted = start_worker(env, "outreach-restarted")
    try:
        manage(env, "dispatch_outreach", "--chunk-size", "100")
        assert wait_for(lambda: sent_count() == len(messages), timeout=180)
    finally:
        print(stop(restarted))
    assert_each_sent_exactly_once(email_dir, messages)


def free_port(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def start_private_redis(folder: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server", "--port",
            str(PRIVATE_REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(folder),
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=PRIVATE_REDIS_PORT)

    def answers() -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    assert wait_for(answers, timeout=10, every=0.05)
    return process


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: install Debian's redis-server.")
    assert free_port(PRIVATE_REDIS_PORT), f"port {PRIVATE_REDIS_PORT} is in use"
    state = {"process": start_private_redis(tmp_path)}

    def restart() -> None:
        state["process"].terminate()
        state["process"].wait(timeout=10)
        state["process"] = start_private_redis(tmp_path)

    yield restart
    state["process"].terminate()
    state["process"].wait(timeout=10)


@pytest.mark.fault
def test_redis_restarted_between_planning_and_sending_loses_nothing(
    private_redis, email_dir
):
    messages = plan_messages(60)
    broker_url = f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}/0"
    env = worker_env(broker_url, email_dir)
    manage(env, "dispatch_outreach", "--chunk-size", "20")
    queue = redis.Redis(port=PRIVATE_REDIS_PORT)
    assert queue.llen("celery") == 3
    private_redis()  # restarted without persistence: the queued tasks are gone
    assert queue.llen("celery") == 0
    worker = start_worker(env, "outreach-redis")
    try:
        time.sleep(3)
        assert sent_count() == 0  # nothing reached the worker
        # The sweeper notices messages handed out but never claimed.
        manage(env, "sweep_outbox", "--older-than", "0")
        manage(env, "dispatch_outreach", "--chunk-size", "20")
        assert wait_for(lambda: sent_count() == len(messages), timeout=90)
    finally:
        print(stop(worker))
    assert_each_sent_exactly_once(email_dir, messages)
