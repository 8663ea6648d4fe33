"""Benchmark the purchases CSV import against ``psql \\copy`` of the same file.

Run by hand (pytest does not collect it), against a dedicated PostgreSQL database
that it drops and creates (only a database whose name contains "bench"):

    .venv/bin/python bench/bench_import.py --purchases 1000000 --customers 100000

Steps, in one run: make the database and its customers (plain SQL: the import,
not the seeding, is measured), write a purchases CSV in the documented format,
``\\copy`` it into a bare five-column table (the floor: PostgreSQL reading the
same bytes with no checks), import it with ``import_purchases`` (the same code
path as the web upload), check the running figures against the purchases, then
import the same file again (everything unchanged). Prints a markdown table; the
figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER = "postgres://postgres@127.0.0.1:5432"
os.environ.setdefault("DATABASE_URL", f"{SERVER}/crm_bench_import")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings_test")


def database_name() -> str:
    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    if "bench" not in name:
        sys.exit(f"Refusing to drop {name!r}: the name must contain 'bench'.")
    return name


def recreate_database(name: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def make_customers(count: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO customers_customer (reference, first_name, last_name, email,
                phone, search_text, email_opt_in, sms_opt_in, email_opt_in_source,
                sms_opt_in_source, notes, orders_count, total_spent, created_at,
                updated_at)
            SELECT 'C-' || lpad(n::text, 7, '0'), 'Bench', 'Customer ' || n,
                'bench' || n || '@example.com', '', 'bench customer ' || n
                || ' bench' || n || '@example.com', false, false, '', '', '',
                0, 0,
                now() - interval '4 years', now()
            FROM generate_series(1, %s) AS n
            """,
            [count],
        )
        cursor.execute("ANALYZE customers_customer")


def write_purchases_csv(path: Path, purchases: int, customers: int) -> None:
    rng = random.Random(2026)
    start = datetime(2022, 1, 1, tzinfo=UTC)
    span = int((datetime(2026, 1, 1, tzinfo=UTC) - start).total_seconds())
    with path.open("w", encoding="utf-8") as out:
        out.write("customer,occurred_at,amount,reference,channel\n")
        for n in range(1, purchases + 1):
            customer = f"C-{rng.randrange(1, customers + 1):07d}"
            moment = start + timedelta(seconds=rng.randrange(span))
            amount = f"{rng.randrange(500, 25000) / 100:.2f}"
            # One order in five comes without an order number (a till receipt).
            reference = f"ORD-{n}" if rng.random() < 0.8 else ""
            channel = "online" if rng.random() < 0.3 else "shop"
            out.write(
                f"{customer},{moment.isoformat()},{amount},{reference},{channel}\n"
            )


def psql_copy(name: str, path: Path) -> float:
    with psycopg.connect(f"{SERVER}/{name}", autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_bare_purchases")
        conn.execute(
            "CREATE TABLE bench_bare_purchases (customer text, occurred_at text, "
            "amount text, reference text, channel text)"
        )
    started = time.perf_counter()
    subprocess.run(
        [
            "psql",
            f"{SERVER}/{name}",
            "-q",
            "-c",
            f"\\copy bench_bare_purchases FROM '{path}' WITH (FORMAT csv, HEADER)",
        ],
        check=True,
    )
    return time.perf_counter() - started


# The import's statements, by the start of their SQL, as the steps of the table.
STEPS = (
    ("CREATE TEMPORARY TABLE import_purchase_matched", "match customers"),
    ("CREATE TEMPORARY TABLE import_purchase_classified", "classify rows"),
    ("INSERT INTO customers_purchase", "insert purchases (+ audit rows)"),
    ("UPDATE customers_customer", "running figures (+ audit rows)"),
    ("ANALYZE", "ANALYZE staged rows"),
)


class StepTimer:
    """An execute wrapper timing each statement of the import by step.

    COPY goes through the driver directly, so the file's reading, checking and
    COPY show as the time before the first ANALYZE; the commit (with its
    deferred foreign-key checks) as the time after the last statement.
    """

    def __init__(self) -> None:
        self.spans: list[tuple[str, float, float]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.spans.append((" ".join(sql.split()), started, time.perf_counter()))

    def steps(self, started: float, ended: float) -> list[tuple[str, float]]:
        totals: dict[str, float] = {}
        first = next(s for sql, s, _ in self.spans if sql.startswith("ANALYZE"))
        totals["read, check and COPY the file"] = first - started
        for sql, begun, done in self.spans:
            if begun < first:
                continue
            name = next((n for start, n in STEPS if sql.startswith(start)), "other")
            totals[name] = totals.get(name, 0) + done - begun
        totals["commit (deferred foreign-key checks)"] = ended - self.spans[-1][2]
        return list(totals.items())


def import_file(path: Path, timer: StepTimer | None = None, by=None):
    from contextlib import nullcontext

    from django.db import connection

    from customers.purchase_import import PurchaseImporter

    started = time.perf_counter()
    timing = connection.execute_wrapper(timer) if timer else nullcontext()
    with timing, path.open("rb") as stream:
        report = PurchaseImporter(by=by).run(stream)
    return report, time.perf_counter() - started


def figures_agree() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM customers_customer c LEFT JOIN (
                SELECT customer_id, count(*) n, sum(amount) s
                FROM customers_purchase GROUP BY customer_id
            ) p ON p.customer_id = c.id
            WHERE c.orders_count <> coalesce(p.n, 0)
               OR c.total_spent <> coalesce(p.s, 0)
            """
        )
        return cursor.fetchone()[0] == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--as-user",
        action="store_true",
        help="import as a user, as an upload does (each purchase's recorder is "
        "then checked too: one more foreign-key check per row)",
    )
    args = parser.parse_args()

    name = database_name()
    recreate_database(name)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    make_customers(args.customers)
    by = None
    if args.as_user:
        from django.contrib.auth import get_user_model

        by = get_user_model().objects.create(username="bench-owner")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "purchases.csv"
        write_purchases_csv(path, args.purchases, args.customers)
        size_mb = path.stat().st_size / 1e6
        copy_s = psql_copy(name, path)
        timer = StepTimer()
        started = time.perf_counter()
        report, import_s = import_file(path, timer, by)
        steps = timer.steps(started, started + import_s)
        again, again_s = import_file(path, by=by)

    rows = args.purchases
    who = f"as the user {by.username}" if by else "as no user (the system)"
    print(
        f"{rows:,} purchases for {args.customers:,} customers, {size_mb:.0f} MB, "
        f"imported {who}\n"
    )
    print("| step | seconds | rows/s | outcome |")
    print("| --- | ---: | ---: | --- |")
    print(f"| psql \\copy into a bare table | {copy_s:.1f} | {rows / copy_s:,.0f} | |")
    print(
        f"| import_purchases | {import_s:.1f} | {rows / import_s:,.0f} | "
        f"{report.summary()} |"
    )
    print(
        f"| the same file again | {again_s:.1f} | {rows / again_s:,.0f} | "
        f"{again.summary()} |"
    )
    print("\n| import step | seconds | share |")
    print("| --- | ---: | ---: |")
    for name, seconds in steps:
        print(f"| {name} | {seconds:.1f} | {seconds / import_s:.0%} |")
    print(f"\nRunning figures equal the purchases: {figures_agree()}")
    print(f"import / \\copy: {import_s / copy_s:.1f}x")


if __name__ == "__main__":
    main()
