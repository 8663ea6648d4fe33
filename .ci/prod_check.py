"""make prod-check: the app deployed as the README's production section says, then
used over HTTP as an Owner and as Staff would use it.

From the repository as it is: production settings from the environment (DEBUG off,
HTTPS behind one proxy, a random SECRET_KEY, PostgreSQL, Redis, SMTP), migrate,
collectstatic with the manifest storage, gunicorn on a loopback port, a Celery
worker and beat on Redis, and a local SMTP sink (aiosmtpd) standing in for the mail
server. Then: log in as an Owner and as Staff, open every main page (200), fetch
the static files a page names (200, far-future cache headers), record a purchase
through the API, and wait for beat to plan and the worker to send its thank-you
e-mail through SMTP: it must arrive once, with List-Unsubscribe headers. Every
process it started is stopped at the end, pass or fail; a failure names its step.

Run by `.ci/run`; by hand: `make prod-check` (needs PostgreSQL and Redis on
127.0.0.1; it uses the database crm_prodcheck and Redis database 9, both emptied).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from email import message_from_bytes
from pathlib import Path
from urllib.parse import urljoin

import requests
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
HOST = "crm.example.com"  # the name the proxy serves; requests go to loopback
PASSWORD = "prod-check-" + secrets.token_urlsafe(12)
CUSTOMER_EMAIL = "dana.prodcheck@example.com"
DATABASE = "crm_prodcheck"


class StepFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """An SMTP server on loopback that keeps what it is sent."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@contextmanager
def step(name: str):
    print(f"--- prod-check: {name}", flush=True)
    try:
        yield
    except StepFailed as error:
        raise StepFailed(f"{name}: {error}") from None
    except Exception as error:  # noqa: BLE001 - named with its step
        raise StepFailed(f"{name}: {type(error).__name__}: {error}") from error


def production_environment(smtp_port: int, web_port: int, tmp: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="crm.settings",
        ENV_FILE="/nonexistent",  # nothing from a developer's .env
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        HTTPS="true",
        TRUST_PROXY_HEADERS="true",
        PROXY_COUNT="1",
        ALLOWED_HOSTS=HOST,
        CSRF_TRUSTED_ORIGINS=f"https://{HOST}",
        SITE_URL=f"https://{HOST}",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        REDIS_URL="redis://127.0.0.1:6379/9",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        DEFAULT_FROM_EMAIL="shop@example.com",
        MEDIA_ROOT=str(tmp / "media"),
        CELERY_BEAT_SCHEDULE_FILENAME=str(tmp / "celerybeat-schedule"),
        # Beat plans and hands out every few seconds here, not every few minutes.
        OUTREACH_PLAN_EVERY_SECONDS="3",
        OUTREACH_DISPATCH_EVERY_SECONDS="3",
    )
    return env


def run(args: list[str], env: dict, **kwargs) -> str:
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, **kwargs
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-2000:]
        raise StepFailed(f"{' '.join(args[:3])} exited {done.returncode}:\n{tail}")
    return done.stdout


def manage(env: dict, *args: str, **kwargs) -> str:
    return run([str(VENV_BIN / "python"), "manage.py", *args], env, **kwargs)


SETUP = """
from datetime import time
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from communications import services as outreach
from communications.models import FrequencyPolicy, Trigger
from crm.api.services import create_api_token
from customers import services
from customers.roles import OWNER, STAFF

User = get_user_model()
owner = User.objects.create_user("owner", "owner@example.com", PASSWORD, is_staff=True)
owner.groups.add(Group.objects.get(name=OWNER))
staff = User.objects.create_user("sam", "sam@example.com", PASSWORD)
staff.groups.add(Group.objects.get(name=STAFF))
customer = services.create_customer(
    first_name="Dana", last_name="Prodcheck", email=EMAIL, email_opt_in=True
)
# No quiet hours: the check may run at any hour.
FrequencyPolicy.objects.update_or_create(
    pk=1, defaults={"quiet_start": time(0), "quiet_end": time(0)}
)
template = outreach.save_template(
    name="Thank you", channel="email", subject="Thank you, {{ first_name }}",
    body_text="Thank you for your visit, {{ first_name }}.",
)
outreach.save_rule(
    name="Thank-you on the day", trigger=Trigger.THANK_YOU, days=0,
    channel="email", template=template, active=True,
)
_, secret = create_api_token(user=owner, name="prod-check")
print(f"customer={customer.pk} token={secret}")
"""


class Browser:
    """A logged-in person over HTTP, as the proxy in front would forward them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.cookies: dict[str, str] = {}

    def _headers(self, extra: dict | None = None) -> dict:
        headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.7",
        }
        if self.cookies:
            # The cookies are Secure (HTTPS); the proxy would carry them over TLS.
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**headers, **(extra or {})}

    def _keep_cookies(self, response) -> None:
        for cookie in response.cookies:
            self.cookies[cookie.name] = cookie.value

    def get(self, path: str) -> requests.Response:
        response = self.session.get(
            urljoin(self.base, path), headers=self._headers(), allow_redirects=False
        )
        self._keep_cookies(response)
        return response

    def post(self, path: str, data: dict) -> requests.Response:
        extra = {"Origin": f"https://{HOST}", "Referer": f"https://{HOST}{path}"}
        response = self.session.post(
            urljoin(self.base, path),
            data=data,
            headers=self._headers(extra),
            allow_redirects=False,
        )
        self._keep_cookies(response)
        return response

    def log_in(self, username: str) -> None:
        page = self.get("/accounts/login/")
        if page.status_code != 200:
            raise StepFailed(f"the login page answered {page.status_code}")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if not token:
            raise StepFailed("the login page has no CSRF token")
        response = self.post(
            "/accounts/login/",
            {
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1),
            },
        )
        if response.status_code != 302 or "sessionid" not in self.cookies:
            raise StepFailed(
                f"logging in as {username} answered {response.status_code}"
            )


def start(name: str, args: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped whole
    )


def stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for process in processes.values():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(what: str, test, timeout: float, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = test()
        if value:
            return value
        time.sleep(every)
    raise StepFailed(f"{what} did not happen within {timeout:.0f} s")


def check(tmp: Path) -> None:
    sink = Sink()
    smtp_port, web_port = free_port(), free_port()
    env = production_environment(smtp_port, web_port, tmp)
    processes: dict[str, subprocess.Popen] = {}
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    sink_started = False
    try:
        with step("a fresh PostgreSQL database and Redis database"):
            run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists",
                 DATABASE], env)  # fmt: skip
            run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DATABASE], env)
            run(["redis-cli", "-h", "127.0.0.1", "-n", "9", "flushdb"], env)
        with step("manage.py check --deploy"):
            manage(env, "check", "--deploy", "--fail-level", "WARNING")
        with step("migrate"):
            manage(env, "migrate", "--noinput")
        with step("collectstatic (manifest storage)"):
            manage(env, "collectstatic", "--noinput", "--clear")
        with step("an Owner, a Staff user, a customer, a thank-you rule, a token"):
            setup = SETUP.replace("PASSWORD", repr(PASSWORD)).replace(
                "EMAIL", repr(CUSTOMER_EMAIL)
            )
            out = manage(env, "shell", "-c", setup)
            found = re.search(r"customer=(\d+) token=(\S+)", out)
            if not found:
                raise StepFailed(f"no customer and token in: {out[-500:]}")
            customer_id, api_token = found.group(1), found.group(2)
        with step("the SMTP sink"):
            controller.start()
            sink_started = True
        with step("gunicorn, a Celery worker and beat"):
            bin_ = str(VENV_BIN)
            processes["gunicorn"] = start(
                "gunicorn",
                [f"{bin_}/gunicorn", "crm.wsgi", "--bind", f"127.0.0.1:{web_port}",
                 "--workers", "2", "--access-logfile", "-"],
                env, tmp / "gunicorn.log",
            )  # fmt: skip
            processes["worker"] = start(
                "worker",
                [f"{bin_}/celery", "-A", "crm", "worker", "--loglevel=info",
                 "--concurrency=1", "--hostname", "prodcheck@%h"],
                env, tmp / "worker.log",
            )  # fmt: skip
            processes["beat"] = start(
                "beat",
                [f"{bin_}/celery", "-A", "crm", "beat", "--loglevel=info"],
                env, tmp / "beat.log",
            )  # fmt: skip
            base = f"http://127.0.0.1:{web_port}"

            def answers():
                for name, process in processes.items():
                    if process.poll() is not None:
                        log = (tmp / f"{name}.log").read_text()[-1500:]
                        raise StepFailed(f"{name} exited early:\n{log}")
                try:
                    return requests.get(
                        base + "/accounts/login/",
                        headers={"Host": HOST},
                        timeout=10,
                        allow_redirects=False,
                    ).status_code
                except requests.RequestException:
                    return None

            wait_for("gunicorn answering", answers, timeout=60)
        with step("plain http is redirected to https"):
            response = requests.get(
                base + "/accounts/login/", headers={"Host": HOST}, allow_redirects=False
            )
            if response.status_code != 301 or not response.headers.get(
                "Location", ""
            ).startswith("https://"):
                raise StepFailed(f"answered {response.status_code}")

        owner, staff = Browser(base), Browser(base)
        with step("log in as the Owner"):
            owner.log_in("owner")
        with step("log in as Staff"):
            staff.log_in("sam")
        owner_pages = [
            "/customers/",
            f"/customers/{customer_id}/",
            "/customers/follow-ups/",
            "/customers/needs-follow-up/",
            "/customers/segments/",
            "/customers/import/",
            "/loyalty/",
            "/communications/",
            "/communications/rules/",
            "/dashboard/",
            "/api/v1/schema/",
            "/admin/",
        ]
        staff_pages = [
            "/customers/",
            f"/customers/{customer_id}/",
            "/customers/follow-ups/",
            f"/loyalty/members/{customer_id}/",
        ]
        for who, browser, pages in (
            ("Owner", owner, owner_pages),
            ("Staff", staff, staff_pages),
        ):
            for path in pages:
                with step(f"{who} opens {path}"):
                    response = browser.get(path)
                    if response.status_code != 200:
                        raise StepFailed(f"answered {response.status_code}")
        for path in ("/dashboard/", "/loyalty/", "/admin/"):
            with step(f"Staff may not open {path}"):
                response = staff.get(path)
                if response.status_code not in (302, 403):
                    raise StepFailed(f"answered {response.status_code}")
        with step("static files served with far-future cache headers"):
            page = owner.get("/dashboard/").text
            assets = sorted(set(re.findall(r'(?:src|href)="(/static/[^"]+)"', page)))
            if not assets:
                raise StepFailed("the dashboard names no static files")
            for asset in assets:
                response = owner.get(asset)
                cache = response.headers.get("Cache-Control", "")
                age = re.search(r"max-age=(\d+)", cache)
                if (
                    response.status_code != 200
                    or not age
                    or int(age.group(1)) < (365 * 24 * 3600)
                ):
                    raise StepFailed(
                        f"{asset}: {response.status_code}, Cache-Control {cache!r}"
                    )
            print(f"    {len(assets)} files, e.g. {assets[0]}: {cache}")
        with step("record a purchase through the API"):
            response = requests.post(
                f"{base}/api/v1/customers/{customer_id}/purchases/",
                json={"amount": "42.50", "reference": "PRODCHECK-1"},
                headers={
                    "Host": HOST,
                    "X-Forwarded-Proto": "https",
                    "Authorization": f"Bearer {api_token}",
                },
            )
            if response.status_code != 201:
                raise StepFailed(f"answered {response.status_code}: {response.text}")
        with step("beat plans and the worker sends the thank-you through SMTP"):
            wait_for("the e-mail arriving", lambda: sink.messages, timeout=120)
            time.sleep(8)  # a second copy would come with the next rounds
            if len(sink.messages) != 1:
                raise StepFailed(f"{len(sink.messages)} e-mails arrived, not 1")
            recipients, email = sink.messages[0]
            if recipients != [CUSTOMER_EMAIL]:
                raise StepFailed(f"sent to {recipients}")
            # A long header arrives folded over lines: unfold it.
            unsubscribe = "".join(email.get("List-Unsubscribe", "").split())
            if not unsubscribe.startswith(f"<https://{HOST}/unsubscribe/"):
                raise StepFailed(f"List-Unsubscribe is {unsubscribe!r}")
            if email.get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click":
                raise StepFailed("no List-Unsubscribe-Post header")
            print(f"    1 e-mail to {recipients[0]}: {email['Subject']!r}")
    finally:
        print("--- prod-check: stopping what it started", flush=True)
        stop(processes)
        if sink_started:
            controller.stop()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="prod-check-") as folder:
        try:
            check(Path(folder))
        except StepFailed as error:
            print(f"prod-check FAILED at: {error}", file=sys.stderr)
            for log in sorted(Path(folder).glob("*.log")):
                print(f"--- {log.name} (last lines)", file=sys.stderr)
                print(log.read_text()[-3000:], file=sys.stderr)
            return 1
    print("prod-check: every step passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
