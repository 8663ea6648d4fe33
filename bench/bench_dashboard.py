"""Benchmark the owners' dashboard: page, report and model fit, beside the raw SQL
aggregates they rest on, in the same run.

Run by hand (pytest does not collect it), against a dedicated PostgreSQL database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_dash \\
        .venv/bin/python bench/bench_dashboard.py --customers 100000

It migrates the database and seeds it with ``seed_demo`` unless it holds exactly
that many customers (only a database whose name contains "bench" is ever
dropped, with --reseed), tops the purchases up to --purchases with one bulk
INSERT (seed_demo makes about 9.5 per customer), then times:

- the raw SQL floors over a plain psycopg connection: one GROUP BY customer over
  all purchases, one GROUP BY (customer, local day), the trend's revenue by
  month, the cohort cells;
- the nightly fit (load, fit, predictions, storing 100,000 scores);
- the report (every figure) computed with nothing cached, and the
  retention_report command (which also fits the models);
- the dashboard page through Django's test client (server time), cold (cache
  cleared, so the report is computed) and warm (the report cached), one CSV
  download and one customer list.

Results are a markdown table on stdout; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import environ
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_bench_dash"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings_test")

PAGE_WARM_TARGET_S = 1.0
PAGE_COLD_TARGET_S = 5.0
FIT_TARGET_S = 10.0
TOP_UP_REFERENCE = "BENCH-DASH-"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reseed", action="store_true", help="Recreate and seed.")
    parser.add_argument("--cold", type=int, default=3, help="Cold page runs.")
    parser.add_argument("--warm", type=int, default=10, help="Warm page runs.")
    return parser.parse_args()


def conninfo(config: dict, dbname: str | None = None) -> str:
    return psycopg.conninfo.make_conninfo(
        dbname=dbname or config["NAME"],
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=str(config.get("PORT") or "") or None,
    )


def recreate_database(config: dict) -> None:
    name = config["NAME"]
    if "bench" not in name:
        sys.exit(f"Refusing to drop {name!r}: only a *bench* database is recreated.")
    with psycopg.connect(conninfo(config, "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_exists(config: dict) -> bool:
    with psycopg.connect(conninfo(config, "postgres"), autocommit=True) as conn:
        return bool(
            conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
            ).fetchone()
        )


def prepare(args: argparse.Namespace, config: dict) -> None:
    """Migrate, seed when needed, top the purchases up, refresh statistics."""
    if args.reseed or not database_exists(config):
        recreate_database(config)
    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from customers.models import Customer, Purchase

    call_command("migrate", verbosity=0)
    if Customer.objects.count() != args.customers:
        if Customer.objects.exists():
            sys.exit("The database holds other customers: use --reseed.")
        started = time.monotonic()
        call_command("seed_demo", customers=args.customers, seed=args.seed)
        seconds = time.monotonic() - started
        print(f"seed_demo --customers {args.customers}: {seconds:.0f} s")
    missing = args.purchases - Purchase.objects.count()
    if missing > 0:
        started = time.monotonic()
        top_up_purchases(missing)
        print(f"Added {missing:,} purchases in {time.monotonic() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def top_up_purchases(count: int) -> None:
    """Random purchases of random customers over the last 700 days, set-wise."""
    from django.db import connection

    from customers.models import Purchase
    from customers.services import recalculate_figures

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO customers_purchase (customer_id, occurred_at, amount,
                currency, reference, channel, refunded_amount, created_at)
            SELECT c.id,
                   date_trunc('day', now()) - (1 + floor(random() * 700))
                       * interval '1 day' + random() * interval '12 hours',
                   round((5 + random() * 120)::numeric, 2), 'EUR',
                   %s || g.n, 'shop', 0, now()
              FROM (
                  SELECT n, b.low + floor(random() * (b.high - b.low + 1))::bigint AS id
                    FROM generate_series(1, %s) n,
                         (SELECT min(id) AS low, max(id) AS high
                            FROM customers_customer) b
              ) g
              JOIN customers_customer c ON c.id = g.id
            """,
            [TOP_UP_REFERENCE, count],
        )
    touched = (
        Purchase.objects.filter(reference__startswith=TOP_UP_REFERENCE)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    recalculate_figures(list(touched))


def timed(run: Callable[[], object], times: int = 1) -> list[float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return samples


def raw_floors(conn: psycopg.Connection, zone: str, trend_start, cohort_start) -> dict:
    """The plain SQL each part of the figures cannot beat (same session settings)."""
    conn.execute("SET jit = off")
    conn.execute("SET work_mem = '64MB'")
    queries = {
        "raw: GROUP BY customer (all purchases)": (
            "SELECT customer_id, min(occurred_at), max(occurred_at), count(*), "
            "sum(amount - refunded_amount) FROM customers_purchase "
            "GROUP BY customer_id",
            [],
        ),
        "raw: GROUP BY customer, local day (occasions)": (
            "SELECT customer_id, (occurred_at AT TIME ZONE %s)::date, "
            "sum(amount - refunded_amount) FROM customers_purchase GROUP BY 1, 2",
            [zone],
        ),
        "raw: revenue by month, trend's 12 months": (
            "SELECT date_trunc('month', occurred_at AT TIME ZONE %s), "
            "sum(amount - refunded_amount), count(*) FROM customers_purchase "
            "WHERE occurred_at >= %s GROUP BY 1",
            [zone, trend_start],
        ),
        "raw: cohort cells (first month x month, distinct customers)": (
            "WITH f AS (SELECT customer_id, min(occurred_at) AS first_at "
            "FROM customers_purchase GROUP BY customer_id) "
            "SELECT date_trunc('month', f.first_at AT TIME ZONE %s) AS cohort, "
            "date_trunc('month', p.occurred_at AT TIME ZONE %s) AS month, "
            "count(DISTINCT p.customer_id) FROM customers_purchase p "
            "JOIN f USING (customer_id) WHERE f.first_at >= %s GROUP BY 1, 2",
            [zone, zone, cohort_start],
        ),
    }
    return {
        name: timed(lambda q=query, p=params: conn.execute(q, p).fetchall(), 3)
        for name, (query, params) in queries.items()
    }


def main() -> None:
    args = parse_args()
    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "postgres" not in config["ENGINE"]:
        sys.exit("The benchmark needs PostgreSQL (set DATABASE_URL).")
    prepare(args, config)
    # The machine may be shared: the load average beside the figures says how much.
    loads = [os.getloadavg()]

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    from crm.metrics import clv
    from crm.metrics.cohorts import first_cohort
    from crm.metrics.periods import start_of_day
    from crm.metrics.report import build_report, default_plan
    from crm.metrics.services import refresh_clv_fit
    from customers.models import Customer, Purchase

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    plan = default_plan()
    rows: list[tuple[str, list[float], str]] = []

    raw = psycopg.connect(conninfo(config), autocommit=True)
    for name, samples in raw_floors(
        raw,
        settings.TIME_ZONE,
        start_of_day(plan.trend[0].first),
        start_of_day(first_cohort(plan.as_of)),
    ).items():
        rows.append((name, samples, ""))

    # The nightly task, in its parts.
    data_holder = {}
    rows.append(
        (
            "fit: load the model inputs (SQL)",
            timed(lambda: data_holder.update(data=clv.load(plan.as_of))),
            "",
        )
    )
    data = data_holder["data"]
    fit_holder = {}
    fit_samples = timed(lambda: fit_holder.update(result=clv.fit(data)), 3)
    rows.append(
        (
            "fit: BG/NBD + Gamma-Gamma by maximum likelihood",
            fit_samples,
            f"target < {FIT_TARGET_S:.0f} s",
        )
    )
    rows.append(
        (
            "fit: predictions for every customer",
            timed(lambda: clv.predict(fit_holder["result"], data, 365), 3),
            "",
        )
    )
    rows.append(
        (
            "nightly task: load + fit + store scores + matched loyalty",
            timed(refresh_clv_fit),
            "",
        )
    )

    rows.append(
        (
            "report: every figure, nothing cached",
            timed(lambda: build_report(plan), 2),
            "",
        )
    )
    rows.append(
        (
            "retention_report command (fits the models too)",
            timed(lambda: call_command("retention_report", stdout=io.StringIO()), 1),
            "",
        )
    )

    owner, _ = get_user_model().objects.get_or_create(
        username="bench-owner", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client()
    client.force_login(owner)

    def get(url: str) -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")

    def cold_page() -> None:
        cache.clear()
        get("/dashboard/")

    rows.append(
        (
            "page /dashboard/ cold (report computed)",
            timed(cold_page, args.cold),
            f"target < {PAGE_COLD_TARGET_S:.0f} s",
        )
    )
    get("/dashboard/")
    rows.append(
        (
            "page /dashboard/ warm (report cached)",
            timed(lambda: get("/dashboard/"), args.warm),
            f"target < {PAGE_WARM_TARGET_S:.0f} s",
        )
    )
    rows.append(
        (
            "CSV /dashboard/csv/retention.csv warm",
            timed(lambda: get("/dashboard/csv/retention.csv"), args.warm),
            "",
        )
    )

    def cold_list() -> None:
        cache.clear()
        get("/dashboard/customers/retained/")

    rows.append(("list /dashboard/customers/retained/ cold", timed(cold_list, 2), ""))
    get("/dashboard/customers/retained/")
    rows.append(
        (
            "list /dashboard/customers/retained/ warm",
            timed(lambda: get("/dashboard/customers/retained/?page=3"), args.warm),
            "",
        )
    )

    loads.append(os.getloadavg())
    print()
    print(
        f"{Customer.objects.count():,} customers, {Purchase.objects.count():,} "
        f"purchases; as of {plan.as_of}, period {plan.period.label}; "
        f"{len(data):,} customers in the model; load average (1, 5, 15 min) "
        f"{' / '.join(f'{n:.1f}' for n in loads[0])} at the start, "
        f"{' / '.join(f'{n:.1f}' for n in loads[1])} at the end on "
        f"{os.cpu_count()} cores."
    )
    print()
    print("| what | runs | median s | min s | max s | note |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, samples, note in rows:
        print(
            f"| {name} | {len(samples)} | {statistics.median(samples):.2f} | "
            f"{min(samples):.2f} | {max(samples):.2f} | {note} |"
        )


if __name__ == "__main__":
    main()
