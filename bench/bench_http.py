"""Benchmark the pages as staff feel them: over HTTP, served by gunicorn.

Run by hand (pytest does not collect it), against the 100,000-customer benchmark
database that bench/bench_customers.py makes (it is seeded first if needed):

    .venv/bin/python bench/bench_http.py [--before /path/to/old/checkout]
        [--seconds 20] [--customers 100000]

For each checkout (this one, and with ``--before`` an older commit checked out in
a git worktree, its own ``.venv`` or this one's), it starts gunicorn with two
workers on a loopback port with production settings (DEBUG off, the manifest-free
static files of the test settings, Redis for the cache and sessions), logs in as
an Owner, and drives each URL with wrk (Debian's ``wrk`` package) for
``--seconds``, once with 1 connection (one person's latency) and once with 8 (a
busy shop). wrk's Lua hooks report requests/s, p50, p95, p99 and every
response that is not a 200. Prints a markdown table per checkout; the figures
go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
USERNAME, PASSWORD = "bench-owner", "bench-owner-password-1"

# wrk's report, as JSON on the last line: latency in microseconds.
REPORT_LUA = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "p50": %d, "p95": %d, "p99": %d, ' ..
    '"non_2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="An older checkout to compare.")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--connections", default="1,8")
    return parser.parse_args()


def prepare_database(customers: int) -> None:
    """Seed the benchmark database (bench_customers' way) and make the Owner."""
    env = {**os.environ, "DATABASE_URL": DATABASE_URL}
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
sys.argv = ["bench_customers", "--customers", "{customers}"]
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings_test")
import bench.bench_customers as bench
import environ
django.setup()
config = environ.Env.db_url_config({DATABASE_URL!r})
bench.prepare(bench.parse_args(), config)
customer = bench.busiest_customer()
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
user, _ = get_user_model().objects.get_or_create(username={USERNAME!r})
user.set_password({PASSWORD!r})
user.save()
user.groups.add(Group.objects.get(name="Owner"))
print(customer.pk)
"""
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=ROOT)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(checkout: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings_test",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "DEBUG": "false",
        "SECRET_KEY": "bench-http-secret-key-not-for-production-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONPATH": str(checkout),
    }


def start_gunicorn(checkout: Path, port: int) -> subprocess.Popen:
    venv = checkout / ".venv" if (checkout / ".venv").exists() else ROOT / ".venv"
    process = subprocess.Popen(
        [
            str(venv / "bin" / "gunicorn"),
            "crm.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=checkout,
        env=server_env(checkout),
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
            return process
        except requests.ConnectionError:
            time.sleep(0.5)
    stop(process)
    raise SystemExit("gunicorn did not start within 60 s")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def log_in(base: str) -> str:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "username": USERNAME,
            "password": PASSWORD,
            "csrfmiddlewaretoken": token.group(1),
        },
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise SystemExit(f"login failed: {response.status_code}")
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())


def urls(customer_id: int, half_tag_id: int) -> list[tuple[str, str]]:
    return [
        ("the list", "/customers/"),
        ("sorted by total spent", "/customers/?sort=-total_spent"),
        ("a tag on about half", "/customers/?" + urlencode({"tag": half_tag_id})),
        ("search a partial name", "/customers/?q=mar"),
        ("a customer, 900+ entries", f"/customers/{customer_id}/"),
        ("its timeline page 10", f"/customers/{customer_id}/?page=10"),
        ("the dashboard, warm", "/dashboard/"),
    ]


def busiest_and_half_tag() -> tuple[int, int]:
    import psycopg

    with psycopg.connect(DATABASE_URL) as conn:
        customer = conn.execute(
            "SELECT id FROM customers_customer ORDER BY orders_count DESC, id LIMIT 1"
        ).fetchone()[0]
        total = conn.execute("SELECT count(*) FROM customers_customer").fetchone()[0]
        tag = conn.execute(
            "SELECT tag_id FROM customers_customer_tags GROUP BY tag_id "
            "ORDER BY abs(count(*) - %s / 2) LIMIT 1",
            [total],
        ).fetchone()[0]
    return customer, tag


def run_wrk(url: str, cookie: str, connections: int, seconds: int, lua: str) -> dict:
    threads = min(connections, 2)
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
         "--timeout", "10s", "-s", lua, "-H", f"Cookie: {cookie}", url],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def measure(checkout: Path, args: argparse.Namespace, lua: str) -> list[dict]:
    customer, tag = busiest_and_half_tag()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(checkout, port)
    results = []
    try:
        cookie = log_in(base)
        for name, path in urls(customer, tag):
            warm = requests.get(base + path, headers={"Cookie": cookie}, timeout=60)
            if warm.status_code != 200:
                raise SystemExit(f"{path} answered {warm.status_code}")
            for connections in [int(c) for c in args.connections.split(",")]:
                report = run_wrk(base + path, cookie, connections, args.seconds, lua)
                report.update(page=name, path=path, connections=connections)
                results.append(report)
                rate = report["requests"] / report["seconds"]
                p50 = report["p50"] / 1000
                print(f"  {name} c={connections}: {rate:.1f} req/s, p50 {p50:.1f} ms")
    finally:
        stop(server)
    return results


def table(title: str, results: list[dict]) -> str:
    lines = [
        f"**{title}**",
        "",
        "| page | conns | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['page']} | {r['connections']} | {r['requests'] / r['seconds']:.1f}"
            f" | {r['p50'] / 1000:.1f} | {r['p95'] / 1000:.1f} | {r['p99'] / 1000:.1f}"
            f" | {r['non_2xx'] + r['socket_errors']} |"
        )
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    prepare_database(args.customers)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(REPORT_LUA)
    checkouts = [("after", ROOT)]
    if args.before:
        checkouts.insert(0, ("before", args.before.resolve()))
    tables = []
    for title, checkout in checkouts:
        print(f"{title}: {checkout}", flush=True)
        tables.append(
            table(f"{title} ({checkout.name})", measure(checkout, args, script.name))
        )
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
