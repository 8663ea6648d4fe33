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
from contextlib import contextmanager, nullcontext
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


# The set-wise import's steps, each a function of customers.bulk_purchases or
# customers.bulk_purchase_sql (looked up by name there when called).
STEPS = (
    ("bulk_purchases", "_read", "read and check the file (Python)"),
    ("bulk_purchases", "_match_customers", "match customers (2 lookups)"),
    ("bulk_purchase_sql", "lock_customers", "lock customers, read figures"),
    ("bulk_purchase_sql", "stored_holders", "look up stored references"),
    ("bulk_purchase_sql", "stored_twins", "look up stored purchases w/o ref"),
    ("bulk_purchases", "_create_customers", "create missing customers"),
    ("bulk_purchase_sql", "write_purchases", "COPY purchases (+ audit rows)"),
    ("bulk_purchase_sql", "write_figures", "running figures (+ audit rows)"),
)


class StepTimer:
    """Times each step of the set-wise import by wrapping its function.

    What is left of ``import_rows`` is deciding each row (Python); the time
    after it, the commit with its deferred foreign-key checks.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.import_rows_ended = 0.0

    def wrap(self, module, name: str, label: str):
        function = getattr(module, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                self.seconds[label] = self.seconds.get(label, 0) + spent

        return function, timed

    @contextmanager
    def installed(self):
        import customers.bulk_purchase_sql
        import customers.bulk_purchases

        modules = {
            "bulk_purchases": customers.bulk_purchases,
            "bulk_purchase_sql": customers.bulk_purchase_sql,
        }
        saved = []
        for module_name, name, label in STEPS:
            module = modules[module_name]
            original, timed = self.wrap(module, name, label)
            saved.append((module, name, original))
            setattr(module, name, timed)
        rows_module = customers.bulk_purchases
        import_rows = rows_module.import_rows

        def timed_rows(*args, **kwargs):
            started = time.perf_counter()
            try:
                return import_rows(*args, **kwargs)
            finally:
                self.import_rows_ended = time.perf_counter()
                self.seconds["import_rows"] = self.import_rows_ended - started

        saved.append((rows_module, "import_rows", import_rows))
        rows_module.import_rows = timed_rows
        try:
            yield
        finally:
            for module, name, original in saved:
                setattr(module, name, original)

    def steps(self, ended: float) -> list[tuple[str, float]]:
        spent = dict(self.seconds)
        whole = spent.pop("import_rows")
        spent["decide each row, work out the figures (Python)"] = whole - sum(
            spent.values()
        )
        spent["commit (deferred foreign-key checks)"] = ended - self.import_rows_ended
        return list(spent.items())


def import_file(path: Path, timer: StepTimer | None = None, by=None):
    from customers.purchase_import import PurchaseImporter

    started = time.perf_counter()
    timing = timer.installed() if timer else nullcontext()
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
        steps = timer.steps(started + import_s)
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
