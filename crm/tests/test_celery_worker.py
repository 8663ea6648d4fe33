"""A real Celery worker, started as `make run` and production start it, runs a task.

Once with Redis (production) and once with kombu's filesystem transport (make run).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.redis import RedisCache

from crm.tasks import HEARTBEAT_KEY

ROOT = Path(__file__).resolve().parents[2]


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "crm", "worker",
            "--pool=solo", "--loglevel=warning", "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip


def send_heartbeat(env: dict) -> None:
    """Enqueue the task from a separate process, as the web server or beat would."""
    code = (
        "import django; django.setup(); "
        "from crm.tasks import record_worker_heartbeat as t; t.delay()"
    )
    subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60
    )


def wait_for(read, timeout: float = 45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if value:
            return value
        time.sleep(0.3)
    return None


def run_worker_round_trip(env: dict, cache) -> str | None:
    cache.delete(HEARTBEAT_KEY)
    worker = start_worker(env)
    try:
        send_heartbeat(env)
        return wait_for(lambda: cache.get(HEARTBEAT_KEY))
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        print(output)


def base_env(**extra: str) -> dict:
    return {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "ENV_FILE": str(ROOT / "no-such.env"),
        "DEBUG": "true",
        **extra,
    }


def test_worker_runs_a_task_through_redis():
    # Database 14 is this test's own, so no other worker takes the task.
    redis_url = os.environ.get("TEST_CRM_BROKER_URL", "redis://127.0.0.1:6379/14")
    cache = RedisCache(redis_url, {})
    assert run_worker_round_trip(base_env(REDIS_URL=redis_url), cache)


def test_worker_runs_a_task_through_the_filesystem_broker(tmp_path):
    env = base_env(
        REDIS_URL="",
        CELERY_BROKER_DIR=str(tmp_path / "broker"),
        CACHE_DIR=str(tmp_path / "cache"),
    )
    cache = FileBasedCache(str(tmp_path / "cache"), {})
    assert run_worker_round_trip(env, cache)
