"""Benchmark the customer list and detail pages against hand-written SQL.

Run by hand (pytest does not collect it), against a dedicated PostgreSQL database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python bench/bench_customers.py --customers 100000 [--explain]

It creates and migrates the database, seeds it with ``seed_demo`` unless it holds
exactly that many customers already (``--reseed`` forces a fresh one; only a
database whose name contains "bench" is ever dropped), gives the busiest customer
a few hundred more interactions, then times each page through Django's test
client (server time: URL resolution, middleware, views, queries and templates)
and, beside it, the raw SQL that fetches the same rows over a plain psycopg
connection. Results are a markdown table on stdout; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import environ
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_bench")
# The test settings: DEBUG off (no query log), static files without a manifest.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings_test")

PAGE_SIZE = 50
TIMELINE_PAGE = 25
EXTRA_INTERACTIONS = 300
BENCH_SUBJECT = "Benchmark: "
TARGET_MS = 100
TARGET_RATIO = 3

CUSTOMER_COLUMNS = "c.*, u.id AS owner_pk, u.username, u.first_name AS owner_first"
LIST_FROM = (
    "FROM customers_customer c LEFT JOIN auth_user u ON u.id = c.owner_id {join} "
    "{where}"
)
TAGS_OF = (
    "SELECT ct.customer_id, t.id, t.name FROM customers_customer_tags ct "
    "JOIN customers_tag t ON t.id = ct.tag_id WHERE ct.customer_id = ANY(%s) "
    "ORDER BY t.name"
)
TIMELINE_KEYS = """
    SELECT source, id, occurred_at FROM (
        SELECT 'interaction' AS source, id, occurred_at
          FROM customers_interaction WHERE customer_id = %(pk)s
        UNION ALL
        SELECT 'purchase', id, occurred_at
          FROM customers_purchase WHERE customer_id = %(pk)s
        UNION ALL
        SELECT 'feedback', id, occurred_at
          FROM customers_feedback WHERE customer_id = %(pk)s
        UNION ALL
        SELECT 'points', id, occurred_at
          FROM loyalty_pointsentry WHERE customer_id = %(pk)s
        UNION ALL
        SELECT 'message', id, finished_at
          FROM communications_message WHERE customer_id = %(pk)s
          AND status IN ('skipped', 'failed', 'reconcile')
    ) t ORDER BY occurred_at DESC, source DESC, id DESC
    LIMIT %(limit)s OFFSET %(offset)s
"""
TIMELINE_COUNT = """
    SELECT count(*) FROM (
        SELECT id FROM customers_interaction WHERE customer_id = %(pk)s
        UNION ALL SELECT id FROM customers_purchase WHERE customer_id = %(pk)s
        UNION ALL SELECT id FROM customers_feedback WHERE customer_id = %(pk)s
        UNION ALL SELECT id FROM loyalty_pointsentry WHERE customer_id = %(pk)s
        UNION ALL SELECT id FROM communications_message WHERE customer_id = %(pk)s
          AND status IN ('skipped', 'failed', 'reconcile')
    ) t
"""
# Each timeline source's table, and whether its rows name who recorded them.
TIMELINE_ROWS = {
    "interaction": ("customers_interaction", True),
    "purchase": ("customers_purchase", True),
    "feedback": ("customers_feedback", True),
    "points": ("loyalty_pointsentry", True),
    "message": ("communications_message", False),
}
# The loyalty card beside the timeline (loyalty/panel.py), for a member.
LOYALTY_CARD = (
    ("SELECT * FROM loyalty_program ORDER BY id LIMIT 1", ()),
    (
        "SELECT m.*, t.* FROM loyalty_membership m "
        "LEFT JOIN loyalty_tier t ON t.id = m.tier_id WHERE m.customer_id = %(pk)s "
        "ORDER BY m.enrolled_at DESC, m.id DESC LIMIT 1",
        ("pk",),
    ),
    (
        "SELECT sum(e.points - e.shortfall) FROM loyalty_pointsentry e "
        "JOIN customers_purchase p ON p.id = e.purchase_id "
        "WHERE e.kind IN ('earn', 'reversal') AND e.customer_id = %(pk)s "
        "AND p.occurred_at >= now() - interval '1 year'",
        ("pk",),
    ),
    (
        "SELECT sum(remaining) FILTER (WHERE (available_on IS NULL "
        "OR available_on <= current_date) AND (expires_on IS NULL "
        "OR expires_on > current_date)), "
        "sum(remaining) FILTER (WHERE available_on > current_date), "
        "sum(remaining) FILTER (WHERE expires_on > current_date "
        "AND expires_on <= current_date + 30), "
        "min(expires_on) FILTER (WHERE expires_on > current_date "
        "AND expires_on <= current_date + 30) "
        "FROM loyalty_pointsentry WHERE customer_id = %(pk)s AND remaining > 0",
        ("pk",),
    ),
    ("SELECT * FROM loyalty_tier ORDER BY threshold", ()),
    (
        "SELECT e.*, u.username FROM loyalty_pointsentry e "
        "LEFT JOIN auth_user u ON u.id = e.by_id WHERE e.customer_id = %(pk)s "
        "ORDER BY e.occurred_at DESC, e.id DESC LIMIT 5",
        ("pk",),
    ),
    (
        "SELECT c.* FROM loyalty_tierchange c "
        "JOIN loyalty_membership m ON m.id = c.membership_id "
        "WHERE m.customer_id = %(pk)s ORDER BY c.changed_at DESC, c.id DESC LIMIT 3",
        ("pk",),
    ),
    (
        "SELECT * FROM loyalty_reward WHERE is_active "
        "AND (stock IS NULL OR stock > 0) ORDER BY cost, name",
        (),
    ),
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reseed", action="store_true", help="Recreate and seed.")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE.")
    return parser.parse_args()


def conninfo(config: dict, dbname: str | None = None) -> str:
    return psycopg.conninfo.make_conninfo(
        dbname=dbname or config["NAME"],
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=str(config.get("PORT") or "") or None,
    )


def existing_customers(config: dict) -> int | None:
    """Customers in the benchmark database; None if it or the table is missing."""
    try:
        with psycopg.connect(conninfo(config)) as conn:
            return conn.execute("SELECT count(*) FROM customers_customer").fetchone()[0]
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable):
        return None


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


def prepare(args: argparse.Namespace, config: dict) -> float | None:
    """Migrate and seed when needed; returns the seed's seconds, if it ran."""
    from django.core.management import call_command
    from django.db import connection

    count = existing_customers(config)
    if args.reseed or count not in (None, args.customers):
        print(f"Recreating {config['NAME']} (had {count} customers).")
        recreate_database(config)
    elif count is None:
        with psycopg.connect(conninfo(config, "postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
            ).fetchone()
        if not exists:
            recreate_database(config)
    call_command("migrate", verbosity=0)
    from customers.models import Customer

    if Customer.objects.count() == args.customers:
        print(f"{config['NAME']} holds {args.customers:,} customers; not reseeding.")
        return None
    started = time.monotonic()
    call_command("seed_demo", customers=args.customers, seed=args.seed)
    seconds = time.monotonic() - started
    # Fresh statistics, as autovacuum would gather soon after a bulk load.
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"VACUUM ANALYZE after seeding: {time.monotonic() - started:.1f} s")
    return seconds


def busiest_customer():
    """The customer with the most purchases, given some hundreds of interactions."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from customers.demo import STAFF_USERS
    from customers.models import Customer, Interaction
    from customers.services import recalculate_figures

    customer = Customer.objects.order_by("-orders_count", "pk").first()
    if not customer.interactions.filter(subject__startswith=BENCH_SUBJECT).exists():
        staff = list(
            get_user_model().objects.filter(username__in=[u for u, *_ in STAFF_USERS])
        )
        now = timezone.now()
        kinds = list(Interaction.Kind.values)
        rows = [
            Interaction(
                customer=customer,
                kind=kinds[i % len(kinds)],
                subject=f"{BENCH_SUBJECT}contact {i + 1}",
                body="Added by bench/bench_customers.py for a long timeline.",
                occurred_at=now - timedelta(days=1 + i * 2, hours=i % 9),
                by=staff[i % len(staff)],
            )
            for i in range(EXTRA_INTERACTIONS)
        ]
        with transaction.atomic():
            Interaction.objects.bulk_create(rows)
            # bulk_create skips the services: bring last_contact_at up to date.
            recalculate_figures([customer.pk])
        customer.refresh_from_db()
    return customer


def summarise(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000


class QueryTimer:
    """An execute wrapper: how many queries a request ran, and their time."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, query, params, many, context):
        started = time.perf_counter()
        try:
            return execute(query, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def measure(
    page: Callable[[], object], raw: Callable[[], object], args: argparse.Namespace
) -> tuple[dict, dict]:
    """Median and p95 of the page and of its raw SQL, and the Django queries'
    time inside the page.

    The two are timed in turn, one request each, so both see the same moments
    of this shared machine: timed one after the other, the load moved between
    the two halves and with it the ratio.
    """
    from django.db import connection

    for _ in range(args.warmup):
        page()
        raw()
    samples, raw_samples, in_sql, queries = [], [], [], 0
    for _ in range(args.requests):
        timer = QueryTimer()
        with connection.execute_wrapper(timer):
            started = time.perf_counter()
            page()
            samples.append(time.perf_counter() - started)
        in_sql.append(timer.seconds)
        queries = timer.count
        started = time.perf_counter()
        raw()
        raw_samples.append(time.perf_counter() - started)
    median, p95 = summarise(samples)
    raw_median, raw_p95 = summarise(raw_samples)
    return (
        {"median": median, "p95": p95, "sql": summarise(in_sql)[0], "n": queries},
        {"median": raw_median, "p95": raw_p95},
    )


class RawPages:
    """The SQL each page needs, written by hand, run on a plain connection."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.statements: list[tuple[str, object]] = []

    def execute(self, query: str, params=None) -> list:
        self.statements.append((query, params))
        return self.conn.execute(query, params).fetchall()

    def customer_list(self, order: str, join: str = "", where: str = "", params=()):
        frm = LIST_FROM.format(join=join, where=where)
        # The page counts without the owner join, as Django's count() does.
        self.execute(
            f"SELECT count(*) FROM customers_customer c {join} {where}", params
        )
        rows = self.execute(
            f"SELECT {CUSTOMER_COLUMNS} {frm} ORDER BY {order} LIMIT {PAGE_SIZE}",
            params,
        )
        self.execute(TAGS_OF, [[row[0] for row in rows]])
        return rows

    def customer_detail(self, pk: int, page: int = 1) -> list:
        self.execute(
            f"SELECT {CUSTOMER_COLUMNS} {LIST_FROM.format(join='', where='')} "
            "WHERE c.id = %s",
            [pk],
        )
        self.execute(TAGS_OF, [[pk]])
        self.execute(TIMELINE_COUNT, {"pk": pk})
        keys = self.execute(
            TIMELINE_KEYS,
            {"pk": pk, "limit": TIMELINE_PAGE, "offset": (page - 1) * TIMELINE_PAGE},
        )
        for source, (table, by) in TIMELINE_ROWS.items():
            ids = [key[1] for key in keys if key[0] == source]
            if ids and by:
                self.execute(
                    f"SELECT r.*, u.username FROM {table} r "
                    "LEFT JOIN auth_user u ON u.id = r.by_id WHERE r.id = ANY(%s)",
                    [ids],
                )
            elif ids:
                self.execute(f"SELECT * FROM {table} WHERE id = ANY(%s)", [ids])
        self.execute(
            "SELECT avg(score) FILTER (WHERE kind = 'csat'), "
            "avg(score) FILTER (WHERE kind = 'nps') "
            "FROM customers_feedback WHERE customer_id = %s",
            [pk],
        )
        self.execute(
            "SELECT f.*, u.username FROM customers_followup f "
            "JOIN auth_user u ON u.id = f.assignee_id "
            "WHERE f.customer_id = %s AND f.completed_at IS NULL ORDER BY f.due_on",
            [pk],
        )
        for query, names in LOYALTY_CARD:
            self.execute(query, {"pk": pk} if names else None)
        return keys

    def explain(self, run: Callable[[], object]) -> None:
        self.statements = []
        run()
        for query, params in self.statements:
            plan = self.conn.execute(
                f"EXPLAIN (ANALYZE, BUFFERS) {query}", params
            ).fetchall()
            lines = [line.strip() for (line,) in plan]
            scans = [line for line in lines if "Scan" in line][:3]
            print("    " + " ".join(query.split())[:120])
            for line in [lines[0], *scans, lines[-1]]:
                print("      " + line[:120])


def main() -> None:
    args = parse_args()
    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "postgres" not in config["ENGINE"]:
        sys.exit("The benchmark needs PostgreSQL (set DATABASE_URL).")

    import django

    # Whitenoise warns that STATIC_ROOT is missing; pages do not need it here.
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    seed_seconds = prepare(args, config)

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.test import Client

    from customers.demo import STAFF_USERS
    from customers.models import Customer, Tag, normalize_for_search

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    busy = busiest_customer()
    tag = Tag.objects.annotate(n=Count("customers")).order_by("-n").first()
    surname = (
        Customer.objects.values("last_name")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()["last_name"]
    )
    term = normalize_for_search(surname)[:4]
    from customers.timeline import Timeline

    timeline_entries = Timeline(busy).count()
    client = Client()
    client.force_login(get_user_model().objects.get(username=STAFF_USERS[0][0]))

    raw = RawPages(psycopg.connect(conninfo(config), autocommit=True))
    name_order = "c.last_name, c.first_name, c.id"
    tag_join = "JOIN customers_customer_tags ct ON ct.customer_id = c.id"
    pages = [
        ("/customers/", lambda: raw.customer_list(name_order)),
        (
            "/customers/?sort=-total_spent",
            lambda: raw.customer_list("c.total_spent DESC, c.id DESC"),
        ),
        (
            f"/customers/?tag={tag.pk}",
            lambda: raw.customer_list(
                name_order, tag_join, "WHERE ct.tag_id = %s", [tag.pk]
            ),
        ),
        (
            f"/customers/?q={term}",
            # The fastest plain SQL for it: sorting on `last_name || ''` keeps
            # PostgreSQL off the name index (see customers.filters.Unindexed).
            lambda: raw.customer_list(
                "c.last_name || '', c.first_name || '', c.id",
                "",
                "WHERE c.search_text LIKE %s",
                [f"%{term}%"],
            ),
        ),
        (f"/customers/{busy.pk}/", lambda: raw.customer_detail(busy.pk)),
        (f"/customers/{busy.pk}/?page=10", lambda: raw.customer_detail(busy.pk, 10)),
    ]

    print()
    print(
        f"{Customer.objects.count():,} customers; tag {tag.name!r} has {tag.n:,}; "
        f"q={term!r} (from {surname!r}); customer {busy.pk} has "
        f"{timeline_entries} timeline entries."
    )
    if seed_seconds is not None:
        print(f"seed_demo --customers {args.customers}: {seed_seconds:.1f} s")
    print(
        f"{args.requests} timed runs after {args.warmup} warm-ups, page and raw SQL "
        "in turn; "
        "server time through django.test.Client.\n"
    )
    print(
        "| page | queries | median ms | p95 ms | of which SQL ms "
        "| raw median ms | raw p95 ms | ratio | SQL ratio |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    misses = []
    for url, raw_run in pages:

        def get(url=url):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")

        page, raw_page = measure(get, raw_run, args)
        ratio = page["median"] / raw_page["median"]
        print(
            f"| `{url}` | {page['n']} | {page['median']:.1f} | {page['p95']:.1f} | "
            f"{page['sql']:.1f} | {raw_page['median']:.1f} | {raw_page['p95']:.1f} "
            f"| {ratio:.1f}x | {page['sql'] / raw_page['median']:.1f}x |"
        )
        if page["median"] >= TARGET_MS or ratio > TARGET_RATIO:
            misses.append(url)
    print(
        "\n'of which SQL' is the time inside cursor.execute during the request; "
        "ratio is page / raw median, SQL ratio is of which SQL / raw median."
    )
    print(
        f"Targets (median < {TARGET_MS} ms and within {TARGET_RATIO}x of raw) "
        + (f"missed by: {', '.join(misses)}" if misses else "met by every page.")
    )
    if args.explain:
        print("\nEXPLAIN ANALYZE of the raw queries (first lines and timing):")
        for url, raw_run in pages:
            print(f"  {url}")
            raw.explain(raw_run)


if __name__ == "__main__":
    main()
