"""Benchmark outreach: the planner over many customers, and the send rate.

Run by hand (pytest does not collect it), against a dedicated PostgreSQL database
and a Redis database of its own (both emptied as needed):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_outreach \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/10 \\
        .venv/bin/python bench/bench_outreach.py --customers 100000

1. Planner: the demo rules (communications.demo) over ``--customers`` demo
   customers (seeded once with seed_demo; ``--reseed`` forces it; only a
   database whose name contains "bench" is ever dropped). Time and queries of a
   first run (writes the messages) and of a second (writes none), and of the
   pages' counts (each rule's reach, the next 14 days).
2. Send rate per worker: ``--send`` messages queued and dispatched, then one
   real worker (solo pool, as many as a core runs) sends them with Django's file
   email backend; the rate is counted from the first claim to the last send.
   Beside it, in the same run and the same worker setup, ``--noop`` tasks that do
   nothing: the broker's and Celery's own ceiling. Every message is also checked
   to be at the backend exactly once.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_bench_outreach"
)
BROKER_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
os.environ["REDIS_URL"] = BROKER_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings_test")

sys.path.insert(0, str(ROOT / "bench"))
from bench_customers import prepare  # noqa: E402  (same database preparation)

MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>]+>)", re.MULTILINE)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--send", type=int, default=2000)
    parser.add_argument("--noop", type=int, default=2000)
    parser.add_argument("--chunk-size", type=int, default=100)
    return parser.parse_args()


def timed(function, *args, **kwargs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = function(*args, **kwargs)
        seconds = time.perf_counter() - started
    return result, seconds, len(queries)


def bench_planner() -> list[tuple[str, float, int, str]]:
    from django.db import connection
    from django.utils import timezone

    from communications.demo import seed_outreach_demo
    from communications.forecast import next_days
    from communications.models import FollowUpRule, Message
    from communications.planner import plan_outreach
    from communications.triggers import due_set

    Message.objects.all().delete()
    seed_outreach_demo(plan=False)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE communications_message")
    rows = []
    now = timezone.now()  # both runs on one clock: the second must find nothing
    first, seconds, queries = timed(plan_outreach, now)
    detail = ", ".join(f"{k.split(' ', 2)[2]}: {v:,}" for k, v in first.created.items())
    rows.append(("Planner, first run", seconds, queries, f"{first.total:,} ({detail})"))
    again, seconds, queries = timed(plan_outreach, now)
    rows.append(("Planner, second run", seconds, queries, f"{again.total:,} new"))

    def reach():
        return sum(
            due_set(rule, now).count_new_customers()
            for rule in FollowUpRule.objects.all()
        )

    total, seconds, queries = timed(reach)
    rows.append(("Rules page: each rule's reach now", seconds, queries, f"{total:,}"))
    forecast, seconds, queries = timed(next_days)
    due = sum(row.total for row in forecast.rules)
    rows.append(("Next 14 days page: forecast", seconds, queries, f"{due:,} due"))
    return rows


def start_worker(email_dir: Path) -> subprocess.Popen:
    from django.db import connection

    db = connection.settings_dict
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "ENV_FILE": str(ROOT / "no-such.env"),
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/"
        f"{db['NAME']}",
        "REDIS_URL": BROKER_URL,
        "EMAIL_URL": f"filemail:///{email_dir}",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool=solo",
            "--loglevel=warning", "--without-gossip", "--without-mingle",
            "--without-heartbeat", "-I", "bench.outreach_tasks",
        ],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def stop(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()


def wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            sys.exit("Timed out waiting for the worker.")
        time.sleep(0.2)


def bench_sending(count: int, chunk_size: int) -> tuple[float, float, int]:
    """Messages per second for one worker; and the duplicates found (should be 0)."""
    from datetime import timedelta

    from django.db import connection
    from django.db.models import Max, Min
    from django.utils import timezone

    from communications import services
    from communications.dispatcher import dispatch_due
    from communications.models import FrequencyPolicy, Message, Status
    from customers.models import Customer, Interaction
    from customers.services import recalculate_figures

    Message.objects.all().delete()
    started = timezone.now()
    midnight = timezone.datetime(2000, 1, 1).time()
    FrequencyPolicy.objects.update_or_create(
        pk=1, defaults={"quiet_start": midnight, "quiet_end": midnight}
    )
    template = services.save_template(
        name=f"Bench {time.time()}",
        channel="email",
        subject="Hello {{ first_name }}",
        body_text="Hello {{ first_name }}, from {{ business_name }}.",
    )
    rule = services.save_rule(
        name=template.name, trigger="check_in", days=30, channel="email",
        template=template, active=True,
    )  # fmt: skip
    now = timezone.now() - timedelta(minutes=1)
    customers = Customer.objects.opted_in("email").order_by("pk")[:count]
    Message.objects.bulk_create(
        Message(
            customer_id=pk,
            rule=rule,
            template=rule.template,
            trigger=rule.trigger,
            channel="email",
            key=f"bench:{pk}:{now.timestamp()}",
            due_at=now,
            scheduled_for=now,
            stale_after=now + timedelta(days=1),
        )
        for pk in customers.values_list("pk", flat=True)
    )
    queued = Message.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE communications_message")  # as autovacuum would
    dispatch_due(chunk_size=chunk_size)
    with tempfile.TemporaryDirectory() as folder:
        email_dir = Path(folder)
        worker = start_worker(email_dir)
        try:
            wait_for(
                lambda: Message.objects.filter(status=Status.SENT).count() == queued,
                timeout=1800,
            )
        finally:
            stop(worker)
        found = Counter()
        for path in email_dir.glob("*.log"):
            found.update(MESSAGE_ID.findall(path.read_bytes()))
    span = Message.objects.aggregate(first=Min("claimed_at"), last=Max("sent_at"))
    # Leave the data as it was, so the next run plans the same messages.
    sent_to = list(Message.objects.values_list("customer_id", flat=True))
    Interaction.objects.filter(
        customer_id__in=sent_to, created_at__gte=started
    ).delete()
    recalculate_figures(sent_to)
    Message.objects.all().delete()
    rule.delete()
    template.delete()
    seconds = (span["last"] - span["first"]).total_seconds()
    duplicates = sum(n - 1 for n in found.values() if n > 1)
    if len(found) != queued:
        sys.exit(f"{queued} messages, but {len(found)} at the backend.")
    return queued / seconds, seconds, duplicates


def bench_noop(count: int) -> tuple[float, float]:
    import redis

    from bench.outreach_tasks import noop

    client = redis.Redis.from_url(BROKER_URL)
    client.delete("bench:first", "bench:last")
    for number in range(count):
        mark = "first" if number == 0 else "last" if number == count - 1 else ""
        noop.delay(mark)
    with tempfile.TemporaryDirectory() as folder:
        worker = start_worker(Path(folder))
        try:
            wait_for(lambda: client.get("bench:last") is not None, timeout=600)
        finally:
            stop(worker)
    seconds = float(client.get("bench:last")) - float(client.get("bench:first"))
    return (count - 1) / seconds, seconds


def main() -> None:
    import environ

    args = parse_args()
    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "postgres" not in config["ENGINE"]:
        sys.exit("The benchmark needs PostgreSQL (set DATABASE_URL).")
    import django

    django.setup()
    import redis

    redis.Redis.from_url(BROKER_URL).flushdb()
    prepare(args, config)
    from customers.models import Customer

    customers = Customer.objects.count()
    print(f"\n### Planner over {customers:,} customers\n")
    print("| step | time (s) | queries | messages |")
    print("| --- | ---: | ---: | --- |")
    for name, seconds, queries, note in bench_planner():
        print(f"| {name} | {seconds:.2f} | {queries} | {note} |")

    rate, seconds, duplicates = bench_sending(args.send, args.chunk_size)
    noop_rate, noop_seconds = bench_noop(args.noop)
    print("\n### One worker (solo pool), file email backend, Redis broker\n")
    print("| what | count | seconds | per second |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| messages sent | {args.send:,} | {seconds:.1f} | {rate:.0f} |")
    print(f"| no-op tasks | {args.noop:,} | {noop_seconds:.1f} | {noop_rate:.0f} |")
    print(f"\nDuplicates at the backend: {duplicates}.")


if __name__ == "__main__":
    main()
