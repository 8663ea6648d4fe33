"""Deterministic demo data: about two years of a small shop's customers.

Used by ``manage.py seed_demo`` and the benchmarks. The same seed on the same day
gives the same rows: every random choice comes from one ``random.Random(seed)``,
drawn in a fixed order customer by customer, and every date is counted back from
an anchor, today at midnight in the business time zone (``settings.TIME_ZONE``).
Nothing is dated today or later, so no purchase is in the future. Only database
ids and ``Customer.updated_at`` differ between two runs.

Rows are written in batches, never one save per row (``customers.demo_writer``:
COPY on PostgreSQL, ``bulk_create`` elsewhere), which bypasses
``Customer.save()`` and the services: ``search_text`` and the running
figures (orders, total spent net of refunds, first/last purchase, last contact)
are computed here while generating, to the values ``customers.services`` stores.
"""

from __future__ import annotations

import random
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from .demo_data import (
    BODIES,
    COMMENTS,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    FOLLOW_UP_NOTES,
    INTERACTION_KINDS,
    LAST_NAMES,
    MAX_DAY_WEIGHT,
    MONTH_WEIGHT,
    SEGMENTS,
    STAFF_EMAIL_DOMAIN,
    STAFF_USERS,
    TAGS,
    WEEKDAY_WEIGHT,
)
from .demo_writer import Batch, SeedSummary, write_batch
from .models import Customer, Feedback, Interaction, Purchase, Tag
from .roles import STAFF

HISTORY_DAYS = 730
BATCH_SIZE = 5000
REFERENCE_PREFIX = "DEMO-"


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def ensure_staff() -> list:
    """The demo staff users, in the Staff group; made with unusable passwords."""
    User = get_user_model()
    group, _ = Group.objects.get_or_create(name=STAFF)
    users = []
    for username, first, last in STAFF_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@{STAFF_EMAIL_DOMAIN}",
            },
        )
        if created:
            # Demo accounts are there to own and log history, not to log in.
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(group)
        users.append(user)
    return users


def ensure_tags() -> dict[str, int]:
    """The demo tags' ids by name; a tag that exists already is reused."""
    existing = {t.name.lower(): t.pk for t in Tag.objects.all()}
    return {
        name: existing.get(name.lower()) or Tag.objects.create(name=name).pk
        for name in TAGS
    }


class DemoGenerator:
    """Makes customers with their history; every draw comes from `rng`, in order."""

    def __init__(
        self, *, rng: random.Random, today: date, staff_ids: list[int], tags: dict
    ) -> None:
        self.rng = rng
        self.today = today
        self.staff = staff_ids
        self.tags = tags
        self.currency = settings.DEFAULT_CURRENCY
        anchor = datetime.combine(
            today, time.min, tzinfo=timezone.get_default_timezone()
        )
        # Midnight of each day (index = days ago; 0 is today, never used for
        # history). Arithmetic on aware datetimes keeps the wall-clock time, so
        # shop hours stay shop hours across daylight-saving changes.
        self.midnight = [anchor - timedelta(days=d) for d in range(HISTORY_DAYS + 1)]
        self.keep = [
            MONTH_WEIGHT[m.month] * WEEKDAY_WEIGHT[m.weekday()] / MAX_DAY_WEIGHT
            for m in self.midnight
        ]
        self.segments = list(SEGMENTS)
        self.segment_weights = [s[0] for s in SEGMENTS.values()]
        self.last_name_weights = [1 / (i + 1) ** 0.75 for i in range(len(LAST_NAMES))]
        self.kinds = [
            (kind, directions, subjects.split("|"))
            for kind, (_, directions, subjects) in INTERACTION_KINDS.items()
        ]
        self.kind_weights = [k[0] for k in INTERACTION_KINDS.values()]
        self.purchase_number = 0

    def day(self, newest: int, oldest: int) -> int:
        """A day `newest` to `oldest` days ago, kept by seasonal weight."""
        random_ = self.rng.random
        span = oldest - newest + 1
        for _ in range(20):
            d = newest + int(random_() * span)
            if random_() < self.keep[d]:
                break
        return d

    def at(self, days_ago: int, start_hour: float, end_hour: float) -> datetime:
        """A moment, to the second, between two hours of a day."""
        hours = start_hour + self.rng.random() * (end_hour - start_hour)
        return self.midnight[days_ago] + timedelta(seconds=int(hours * 3600))

    def batch(self, first_number: int, count: int) -> Batch:
        batch = Batch()
        for number in range(first_number, first_number + count):
            self.customer(number, batch)
        return batch

    def customer(self, number: int, batch: Batch) -> None:
        rng, r = self.rng, self.rng.random
        segment = rng.choices(self.segments, self.segment_weights)[0]
        earliest = {"loyal": 120, "lapsed": 300, "wholesale": 200}.get(segment)
        if earliest:
            created = rng.randint(earliest, HISTORY_DAYS)
        elif r() < 0.3:  # on file from the start: entered when the CRM came in
            created = rng.randint(HISTORY_DAYS - 45, HISTORY_DAYS)
        else:
            created = rng.randint(1, HISTORY_DAYS)
        first = rng.choice(FIRST_NAMES)
        last = rng.choices(LAST_NAMES, self.last_name_weights)[0]
        email = phone = ""
        if r() < 0.95:
            sep, domain = rng.choice((".", "_", "")), rng.choice(EMAIL_DOMAINS)
            # The running number keeps e-mails unique, case-insensitively too.
            email = f"{_ascii(first)}{sep}{_ascii(last)}{number + 1}@{domain}"
        if r() < 0.7:
            phone = f"+44 7{rng.randint(100, 999)} {rng.randint(0, 999_999):06d}"
        birthday = None
        if r() < 0.6:
            birthday = date(rng.randint(1945, 2006), 1, 1)
            birthday += timedelta(days=rng.randint(0, 364))
        customer = Customer(
            first_name=first,
            last_name=last,
            email=email,
            phone=phone,
            birthday=birthday,
            created_at=self.at(created, 6.5, 9),  # before any purchase that day
        )
        index = len(batch.customers)  # the history rows' pointer to it
        if email and r() < 0.55:
            self.consent(customer, index, "email", batch)
        if phone and r() < 0.2:
            self.consent(customer, index, "sms", batch)
        days, online_share, newest = self.purchase_days(segment, created)
        spent, december = self.purchases(
            customer, index, segment, days, online_share, batch
        )
        is_vip = spent >= 150_000 or (segment == "loyal" and r() < 0.15)
        owner_chance = {"wholesale": 1.0, "loyal": 0.25}.get(segment, 0.04)
        if r() < (max(owner_chance, 0.7) if is_vip else owner_chance):
            customer.owner_id = rng.choice(self.staff)
        self.interactions(customer, index, segment, created, newest, batch)
        self.satisfaction(index, segment, days, batch)

        tags = ["VIP"] if is_vip else []
        if segment == "wholesale":
            tags.append("Wholesale")
        if customer.email_opt_in:
            tags.append("Newsletter")
        if online_share < 0.4 and r() < 0.65:
            tags.append("Local")
        if online_share > 0.6:
            tags.append("Online")
        if birthday and r() < 0.35:
            tags.append("Birthday club")
        if december >= 2:
            tags.append("Gift buyer")
        batch.tag_links.extend((index, self.tags[t]) for t in tags)
        customer.search_text = customer.build_search_text()
        batch.customers.append(customer)

    def consent(self, customer: Customer, index: int, channel: str, batch) -> None:
        source = self.rng.choice(("signup form", "till", "website"))
        setattr(customer, f"{channel}_opt_in", True)
        setattr(customer, f"{channel}_opt_in_at", customer.created_at)
        setattr(customer, f"{channel}_opt_in_source", source)
        # Columns: demo_writer.CONSENT_COLUMNS.
        batch.consents.append((index, channel, True, source, customer.created_at))

    def purchase_days(self, segment: str, created: int) -> tuple[list, float, int]:
        """Days ago of each purchase, newest first; share online; newest allowed."""
        rng, newest = self.rng, 1
        if segment == "prospect":
            days = []
        elif segment == "one_off":
            days = [rng.randint(max(1, created - 5), created)]
        elif segment == "occasional":
            days = [self.day(1, created) for _ in range(rng.randint(2, 6))]
        elif segment == "loyal":
            count = min(150, 8 + int(rng.expovariate(1 / 22)))
            days = [self.day(1, created) for _ in range(count)]
        elif segment == "lapsed":
            newest = rng.randint(180, created - 30)  # they stopped coming then
            days = [self.day(newest, created) for _ in range(rng.randint(2, 10))]
        else:
            count = min(300, 30 + int(rng.expovariate(1 / 50)))
            days = [self.day(1, created) for _ in range(count)]
        return sorted(days), 0.05 + 0.9 * rng.random(), newest

    def purchases(
        self, customer, index, segment, days, online_share, batch
    ) -> tuple[int, int]:
        """Add purchases on the days; returns (cents spent net, December buys)."""
        rng, r = self.rng, self.rng.random
        scale = 6.0 if segment == "wholesale" else 1.0
        net = december = 0
        moments = []
        for d in days:
            online = r() < online_share
            channel = "online" if online else ("phone" if r() < 0.05 else "shop")
            occurred = self.at(d, 9, 23) if online else self.at(d, 9, 18)
            euros = rng.lognormvariate(3.4, 0.75) * scale
            if self.midnight[d].month == 12:
                euros *= 1.3
                december += 1
            cents = int(euros) * 100 + rng.choice((99, 50, 0, 0, 95, int(r() * 100)))
            refunded, refunded_at = 0, None
            if r() < 0.02:
                refunded = cents if r() < 0.6 else int(cents * r())
                refunded_at = min(
                    occurred + timedelta(days=rng.randint(1, 20)),
                    self.midnight[0] - timedelta(minutes=1),
                )
            self.purchase_number += 1
            # Columns: demo_writer.PURCHASE_COLUMNS.
            batch.purchases.append(
                (
                    index,
                    occurred,
                    _money(cents),
                    self.currency,
                    f"{REFERENCE_PREFIX}{self.purchase_number:07d}",
                    channel,
                    _money(refunded),
                    refunded_at,
                    None if online else rng.choice(self.staff),
                    occurred,
                )
            )
            moments.append(occurred)
            net += cents - refunded
        customer.orders_count = len(moments)
        customer.total_spent = _money(net)
        customer.first_purchase_at = min(moments, default=None)
        customer.last_purchase_at = max(moments, default=None)
        return net, december

    def interactions(self, customer, index, segment, created, newest, batch) -> None:
        rng, r = self.rng, self.rng.random
        low, high = SEGMENTS[segment][2]
        days = [self.day(1, created) for _ in range(rng.randint(low, high))]
        if segment == "lapsed" and newest > 40 and r() < 0.5:
            days.append(rng.randint(1, newest - 30))  # a win-back attempt
        first = len(batch.interactions)
        contacts = []
        for d in sorted(days, reverse=True):
            kind, directions, subjects = rng.choices(self.kinds, self.kind_weights)[0]
            by = rng.choice(self.staff)
            if customer.owner_id is not None and r() < 0.7:
                by = customer.owner_id
            occurred = self.at(d, 9, 19)
            # Columns: demo_writer.INTERACTION_COLUMNS.
            batch.interactions.append(
                (
                    index,
                    kind,
                    rng.choice(directions),
                    rng.choice(subjects),
                    rng.choice(BODIES),
                    occurred,
                    by,
                    occurred,
                )
            )
            # Staff's own contact: the demo writes no automated messages.
            if Interaction.is_personal_contact(kind):
                contacts.append(occurred)
        customer.last_contact_at = max(contacts, default=None)
        made = range(first, len(batch.interactions))
        if made and r() < 0.02:
            # The latest interaction (the first of equals, as max() picks).
            origin = max(made, key=lambda i: batch.interactions[i][5])
            origin_by, origin_at = batch.interactions[origin][6:8]
            due = self.today + timedelta(days=rng.randint(-10, 21))
            assignee = customer.owner_id or origin_by
            note = rng.choice(FOLLOW_UP_NOTES)
            batch.follow_ups.append((index, origin, due, assignee, note, origin_at))

    def satisfaction(self, index, segment, days, batch) -> None:
        """CSAT after some purchases, an NPS now and then; lapsed ones less happy."""
        rng, r = self.rng, self.rng.random
        mood = SEGMENTS[segment][1] + rng.gauss(0, 0.15)
        scores = []
        for d in days:
            if r() < 0.08:
                score = round(1 + 4 * (mood + rng.gauss(0, 0.15)))
                after = max(1, d - rng.randint(0, 3))
                scores.append((Feedback.Kind.CSAT, min(5, max(1, score)), after, 2))
        if days and r() < 0.2:
            score = round(10 * (mood + rng.gauss(0, 0.12)))
            scores.append((Feedback.Kind.NPS, min(10, max(0, score)), days[0], 6))
        for kind, score, d, low in scores:
            band = "low" if score <= low else ("high" if score >= low + 2 else "mid")
            occurred = self.at(d, 10, 22)
            comment = rng.choice(COMMENTS[band]) if r() < 0.4 else ""
            # Columns: demo_writer.FEEDBACK_COLUMNS.
            batch.feedback.append(
                (index, kind.value, score, comment, occurred, occurred)
            )


def demo_data_exists() -> bool:
    """Whether a seed ran here before (its order numbers would collide)."""
    return Purchase.objects.filter(reference__startswith=REFERENCE_PREFIX).exists()


@transaction.atomic
def seed_demo_data(
    *,
    customers: int,
    seed: int,
    today: date | None = None,
    batch_size: int = BATCH_SIZE,
    progress=None,
) -> SeedSummary:
    """Write `customers` demo customers with their history, in one transaction.

    `today` defaults to today in the business time zone; all history is before it.
    `progress`, if given, is called with the number of customers written so far.
    """
    staff = ensure_staff()
    summary = SeedSummary(staff=[u.username for u in staff])
    generator = DemoGenerator(
        rng=random.Random(seed),
        today=today or timezone.localdate(),
        staff_ids=[u.pk for u in staff],
        tags=ensure_tags(),
    )

    def make(start: int) -> Batch:
        return generator.batch(start, min(batch_size, customers - start))

    # One thread makes the next batch while this one waits on the database with
    # the GIL released; batches still come out in order, so the data is the same.
    with ThreadPoolExecutor(max_workers=1) as maker:
        upcoming = maker.submit(make, 0)
        for start in range(0, customers, batch_size):
            batch = upcoming.result()
            if start + batch_size < customers:
                upcoming = maker.submit(make, start + batch_size)
            write_batch(batch, summary, batch_size)
            if progress is not None:
                progress(summary.customers)
    return summary
