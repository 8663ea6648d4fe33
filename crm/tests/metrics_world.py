"""A small, hand-built shop whose figures are worked out by hand in the tests.

Business time zone America/New_York; as of 31 March 2025; the period is March
2025 (the previous one February); activity window 60 days, so a customer is
active at the end of 28 February with an occasion from 31 December on, and at
the end of 31 March with one from 31 January on.

    Ann  10 Jan 40.00; 5 Mar 20.00 at 10:00 and 30.00 at 18:00 (one occasion)
    Bob   5 Jan 100.00                                   (lost in March)
    Cat   3 Mar 60.00; 20 Mar 40.00 refunded 10.00 on 25 Mar (new in March)
    Dan  15 Jan 15.00                                    (lost in March)
    Eve  31 Mar 25.00 at 23:30 New York (1 April in UTC) (new in March)
    Fay   1 Apr 50.00 at 00:30: after the as-of day, never counted
    Gus   1 Dec 30.00; 20 Feb 70.00                      (retained, no March buy)
    Hal  no purchase (a prospect)

Everyone is on file from 1 December 2024 but Fay (1 April 2025). Feedback in
March: CSAT 5, 4, 3, 1; NPS 10, 9, 8, 6, 0. In February: CSAT 5. On 2 April
(after the as-of day): CSAT 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from customers import services
from customers.models import Customer, Purchase
from customers.tests.factories import CustomerFactory

ZONE = "America/New_York"
AS_OF = date(2025, 3, 31)
WINDOW_DAYS = 60


def at(day: str, hour: int = 12, minute: int = 0) -> datetime:
    """A moment on a day, in New York."""
    y, m, d = (int(part) for part in day.split("-"))
    return datetime(y, m, d, hour, minute, tzinfo=ZoneInfo(ZONE))


@dataclass
class World:
    customers: dict[str, Customer]

    def ids(self, *names: str) -> set[int]:
        return {self.customers[name].pk for name in names}


def build_world() -> World:
    on_file = at("2024-12-01", 8)
    people = {
        name: CustomerFactory(
            first_name=name, email=f"{name.lower()}@example.com", created_at=on_file
        )
        for name in ("Ann", "Bob", "Cat", "Dan", "Eve", "Gus", "Hal")
    }
    people["Fay"] = CustomerFactory(
        first_name="Fay", email="fay@example.com", created_at=at("2025-04-01", 0, 10)
    )

    def buy(name: str, moment: datetime, amount: str) -> Purchase:
        return services.record_purchase(
            customer=people[name], amount=amount, occurred_at=moment
        )[0]

    buy("Ann", at("2025-01-10"), "40.00")
    buy("Ann", at("2025-03-05", 10), "20.00")
    buy("Ann", at("2025-03-05", 18), "30.00")
    buy("Bob", at("2025-01-05"), "100.00")
    buy("Cat", at("2025-03-03"), "60.00")
    refunded = buy("Cat", at("2025-03-20"), "40.00")
    services.refund_purchase(purchase=refunded, amount="10.00")
    # The refund service stamps "now"; this one happened on 25 March.
    Purchase.objects.filter(pk=refunded.pk).update(refunded_at=at("2025-03-25"))
    buy("Dan", at("2025-01-15"), "15.00")
    buy("Eve", at("2025-03-31", 23, 30), "25.00")
    buy("Fay", at("2025-04-01", 0, 30), "50.00")
    buy("Gus", at("2024-12-01", 9), "30.00")
    buy("Gus", at("2025-02-20"), "70.00")

    def answer(kind: str, score: int, moment: datetime) -> None:
        services.record_feedback(
            customer=people["Ann"], kind=kind, score=score, occurred_at=moment
        )

    for score in (5, 4, 3, 1):
        answer("csat", score, at("2025-03-10"))
    for score in (10, 9, 8, 6, 0):
        answer("nps", score, at("2025-03-11"))
    answer("csat", 5, at("2025-02-10"))
    answer("csat", 1, at("2025-04-02"))
    return World(people)
