"""Benchmark earning points: purchases for members, loyalty on against loyalty off.

Run by hand (pytest does not collect it), against a dedicated PostgreSQL database
that it drops and creates (only a database whose name contains "bench"):

    .venv/bin/python bench/bench_loyalty.py --purchases 100000 --customers 20000

Steps, in one run: make the database and its customers (plain SQL), switch the
program on with two tiers and enrol every customer (set-wise), then measure

1. ``record_purchase`` one purchase at a time (typed, API, row-by-row import),
   program off and on, on a sample (``--row-by-row``, default 5,000);
2. the purchases CSV import (``import_file``: the same code path as the
   ``import_purchases`` command and the web upload; on PostgreSQL it inserts
   set-wise and sends ``purchases_bulk_recorded``), 100,000 rows with the
   program off, then another 100,000 with it on;
3. the set-wise earning alone (``earn_for_purchases``) over 100,000 purchases
   inserted by plain SQL;
4. the nightly jobs over the resulting ledger: tier recalculation and expiry;

and checks every balance against its ledger (``loyalty_audit``). Prints a
markdown table; the figures go in docs/benchmarks.md (section "Loyalty").
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER = "postgres://postgres@127.0.0.1:5432"
os.environ.setdefault("DATABASE_URL", f"{SERVER}/crm_bench_loyalty")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")
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
                'bench' || n || '@example.com', '', 'bench customer ' || n,
                false, false, '', '', '', 0, 0, now() - interval '4 years', now()
            FROM generate_series(1, %s) AS n
            """,
            [count],
        )
        cursor.execute("ANALYZE customers_customer")


def set_up_program() -> None:
    from django.db import transaction

    from customers.models import Customer
    from loyalty import services
    from loyalty.models import Tier

    program = services.save_program(
        is_active=True,
        earn_rate=Decimal("1"),
        welcome_bonus=0,
        expiry_months=12,
        auto_enroll=True,
        pending_days=0,
    )
    # Plain rows: the services would queue a tier recalculation for a worker.
    Tier.objects.create(name="Silver", threshold=500, multiplier=Decimal("1.25"))
    Tier.objects.create(name="Gold", threshold=1500, multiplier=Decimal("1.5"))
    ids = list(Customer.objects.values_list("pk", flat=True))
    with transaction.atomic():
        for start in range(0, len(ids), 5000):
            services.enroll_customers(ids[start : start + 5000], program=program)


def switch(on: bool) -> None:
    from loyalty import services

    services.save_program(is_active=on)


def random_purchase(rng: random.Random, customers: int, start: datetime, span: int):
    customer = f"C-{rng.randrange(1, customers + 1):07d}"
    moment = start + timedelta(seconds=rng.randrange(span))
    amount = f"{rng.randrange(500, 25000) / 100:.2f}"
    return customer, moment, amount


def window() -> tuple[datetime, int]:
    """Purchases over the last two years (some lots expired, some not)."""
    end = datetime.now(UTC) - timedelta(hours=1)
    start = end - timedelta(days=730)
    return start, int((end - start).total_seconds())


def record_one_by_one(count: int, customers: int, seed: int) -> float:
    from customers.models import Customer
    from customers.services import record_purchase

    rng = random.Random(seed)
    start, span = window()
    by_reference = dict(Customer.objects.values_list("reference", "pk"))
    rows = [random_purchase(rng, customers, start, span) for _ in range(count)]
    started = time.perf_counter()
    for n, (reference, moment, amount) in enumerate(rows):
        record_purchase(
            customer=Customer(pk=by_reference[reference]),
            amount=amount,
            occurred_at=moment,
            reference=f"ONE-{seed}-{n}",
        )
    return time.perf_counter() - started


def write_purchases_csv(path: Path, purchases: int, customers: int, tag: str) -> None:
    rng = random.Random(tag)
    start, span = window()
    with path.open("w", encoding="utf-8") as out:
        out.write("customer,occurred_at,amount,reference,channel\n")
        for n in range(1, purchases + 1):
            customer, moment, amount = random_purchase(rng, customers, start, span)
            out.write(f"{customer},{moment.isoformat()},{amount},{tag}-{n},shop\n")


def import_file(path: Path):
    """The purchases import (customers.purchase_import): swap in a faster entry
    point here."""
    from customers.purchase_import import PurchaseImporter

    started = time.perf_counter()
    with path.open("rb") as stream:
        report = PurchaseImporter().run(stream)
    return report, time.perf_counter() - started


def insert_purchases_by_sql(
    count: int, customers: int, prefix: str = "SQL"
) -> list[int]:
    """Purchases straight into the table: no signal, so nothing earns yet."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO customers_purchase (customer_id, occurred_at, amount,
                currency, reference, channel, refunded_amount, created_at)
            SELECT c.id, now() - (random() * interval '730 days') - interval '1 hour',
                round((5 + random() * 245)::numeric, 2), 'EUR', %s || n, 'shop',
                0, now()
            FROM generate_series(1, %s) AS n
            JOIN customers_customer c
              ON c.reference = 'C-' || lpad((1 + (n * 7919) %% %s)::text, 7, '0')
            RETURNING customers_purchase.id
            """,
            [f"{prefix}-", count, customers],
        )
        return [pk for (pk,) in cursor.fetchall()]


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def audit_is_clean() -> bool:
    from django.core.management import CommandError, call_command

    try:
        call_command("loyalty_audit", stdout=StringIO())
    except CommandError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--row-by-row", type=int, default=5_000)
    args = parser.parse_args()

    name = database_name()
    recreate_database(name)
    import django
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    django.setup()
    from loyalty import services
    from loyalty.models import PointsEntry

    call_command("migrate", verbosity=0)
    make_customers(args.customers)
    set_up_program()
    results = []

    def row(step, seconds, rows, outcome=""):
        results.append((step, seconds, rows, outcome))

    n = args.row_by_row
    switch(False)
    row(
        "record_purchase, one at a time, loyalty off",
        record_one_by_one(n, args.customers, 1),
        n,
    )
    switch(True)
    row(
        "record_purchase, one at a time, loyalty on",
        record_one_by_one(n, args.customers, 2),
        n,
    )

    with tempfile.TemporaryDirectory() as folder:
        off_file, on_file = Path(folder) / "off.csv", Path(folder) / "on.csv"
        write_purchases_csv(off_file, args.purchases, args.customers, "OFF")
        write_purchases_csv(on_file, args.purchases, args.customers, "ON")
        switch(False)
        report, seconds = import_file(off_file)
        row(
            "purchases CSV import, loyalty off",
            seconds,
            args.purchases,
            report.summary(),
        )
        switch(True)
        earned_before = PointsEntry.objects.filter(kind="earn").count()
        report, seconds = import_file(on_file)
        earned = PointsEntry.objects.filter(kind="earn").count() - earned_before
        row(
            "purchases CSV import, loyalty on",
            seconds,
            args.purchases,
            f"{report.summary()} {earned:,} earned.",
        )

    switch(False)
    ids = insert_purchases_by_sql(args.purchases, args.customers)
    switch(True)
    with transaction.atomic():
        earned, seconds = timed(services.earn_for_purchases, ids)
    row("earn_for_purchases alone (set-wise)", seconds, len(ids), f"{earned:,} earned.")

    changes, seconds = timed(services.recalculate_tiers)
    members = args.customers
    row("recalculate_tiers (nightly)", seconds, members, f"{len(changes):,} moved.")
    lots = PointsEntry.objects.filter(remaining__gt=0).count()
    expired, seconds = timed(
        services.expire_points, timezone.localdate() + timedelta(days=800)
    )
    row("expire_points, every lot", seconds, lots, f"{expired:,} points expired.")

    print(
        f"{args.customers:,} members; {args.purchases:,} purchases per import; "
        f"{n:,} one at a time\n"
    )
    print("| step | rows | seconds | rows/s | outcome |")
    print("| --- | ---: | ---: | ---: | --- |")
    for step, seconds, rows, outcome in results:
        print(
            f"| {step} | {rows:,} | {seconds:.1f} | {rows / seconds:,.0f} | {outcome} |"
        )
    print(f"\nloyalty_audit clean: {audit_is_clean()}")


if __name__ == "__main__":
    main()
