"""The dashboard page, its CSV downloads and customer lists, on the hand-built
shop of metrics_world.py (March 2025, 60-day window)."""

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer, Purchase, SavedSegment

from .metrics_world import ZONE, build_world

pytestmark = pytest.mark.django_db

QUERY = {"as_of": "2025-03-31", "window": "60", "period": "month"}


@pytest.fixture
def world(settings):
    settings.TIME_ZONE = ZONE
    cache.clear()
    yield build_world()
    cache.clear()


def csv_of(client, table: str, query=QUERY) -> list[list[str]]:
    response = client.get(reverse("dashboard:csv", args=[table]), query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_page_shows_the_periods_figures(owner_client, world):
    response = owner_client.get(reverse("dashboard:index"), QUERY)
    assert response.status_code == 200
    page = response.content.decode()
    report = response.context["report"]
    assert report["customers"]["S"] == 4 and report["customers"]["R"] == 2
    cards = {card.label: card for card in response.context["cards"]}
    assert cards["Retention"].value == "50.0%"
    assert cards["Retention"].n == "R 2 of S 4"
    assert cards["Retention"].change == "-50.0 pts"  # February: 100%
    assert cards["Revenue"].value == "165.00"
    assert cards["CSAT"].n == "n = 4 answers"
    assert "How this is computed" in page
    assert 'id="dashboard-data"' in page  # chart data as JSON, no inline script
    assert "<script>" not in page
    assert "vendor/chartjs/chart.umd.min.js" in page


def test_page_csv_and_report_agree(owner_client, world):
    page = owner_client.get(reverse("dashboard:index"), QUERY).context["report"]
    out = io.StringIO()
    call_command(
        "retention_report", "--as-of", "2025-03-31", "--window-days", "60", stdout=out
    )
    command = json.loads(out.getvalue())
    for key in (
        "as_of",
        "period",
        "customers",
        "retention_rate",
        "churn_rate",
        "repeat_purchase_rate",
        "purchase_frequency",
        "csat",
        "nps",
        "rfm",
    ):
        assert json.loads(json.dumps(page[key], default=str)) == command[key], key
    assert str(page["average_order_value"]) == command["average_order_value"]
    assert command["cohorts"]["cohorts"][-1]["size"] == 2
    headline = {row[0]: row[1] for row in csv_of(owner_client, "headline")[1:]}
    assert headline["active_S_at_start"] == "4"
    assert headline["retained_R"] == "2"
    assert float(headline["retention_rate"]) == command["retention_rate"]
    assert headline["revenue"] == command["revenue"] == "165.00"
    trend = csv_of(owner_client, "retention")
    assert trend[0][:4] == ["period", "start", "end", "S"]
    march = trend[-1]
    assert march[:7] == ["Mar 2025", "2025-03-01", "2025-03-31", "4", "4", "2", "2"]
    segments = {row[0]: int(row[1]) for row in csv_of(owner_client, "rfm")[1:]}
    assert segments == {s["name"]: s["customers"] for s in command["rfm"]["segments"]}


def test_the_page_does_not_query_more_with_more_customers(owner_client, world):
    def queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert (
                owner_client.get(reverse("dashboard:index"), QUERY).status_code == 200
            )
        return len(captured)

    few = queries()
    zone = world.customers["Ann"].created_at.tzinfo
    extra = Customer.objects.bulk_create(
        [Customer(email=f"more{i}@example.com") for i in range(60)]
    )
    Purchase.objects.bulk_create(
        [
            Purchase(
                customer=c,
                amount="12.00",
                occurred_at=datetime(2025, 2, 1 + i % 27, 12, tzinfo=zone)
                + timedelta(days=30 * (i % 2)),
            )
            for i, c in enumerate(extra)
        ]
    )
    assert queries() == few


@pytest.mark.parametrize(
    "query, field, message",
    [
        ({"as_of": "2999-01-01"}, "as_of", "is in the future"),
        ({"as_of": "31/03/2025"}, "as_of", "Enter a valid date"),
        (
            {"period": "custom", "start": "2025-03-10", "end": "2025-03-01"},
            "end",
            "is before the start",
        ),
        ({"period": "custom", "start": "2025-03-10"}, "end", "needs both"),
        ({"window": "0"}, "window", "greater than or equal to 7"),
        ({"period": "decade"}, "period", "Select a valid choice"),
    ],
)
def test_bad_input_is_answered_beside_the_field(
    owner_client, world, query, field, message
):
    response = owner_client.get(reverse("dashboard:index"), query)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert "report" not in response.context
    csv_response = owner_client.get(reverse("dashboard:csv", args=["retention"]), query)
    assert csv_response.status_code == 400
    assert message in csv_response.content.decode()


def test_a_period_with_no_data_shows_n_a(owner_client, world):
    query = {"period": "custom", "start": "2024-06-01", "end": "2024-06-30"}
    response = owner_client.get(reverse("dashboard:index"), query)
    assert response.status_code == 200
    cards = {card.label: card for card in response.context["cards"]}
    assert cards["Retention"].value == "n/a"
    assert cards["Churn"].value == "n/a"
    assert cards["Average order value"].value == "n/a"


def test_unknown_tables_and_lists_are_clear_errors(owner_client, world):
    response = owner_client.get(reverse("dashboard:csv", args=["nope"]), QUERY)
    assert response.status_code == 404
    assert "retention" in response.content.decode()
    response = owner_client.get(reverse("dashboard:customers", args=["nope"]), QUERY)
    assert response.status_code == 400
    assert "no list called" in response.content.decode()
    url = reverse("dashboard:customers", args=["cohort"])
    response = owner_client.get(url, {**QUERY, "key": "March"})
    assert response.status_code == 400
    response = owner_client.get(
        reverse("dashboard:customers", args=["segment"]), {**QUERY, "key": "vip"}
    )
    assert response.status_code == 400


def test_a_number_links_to_its_customers(owner_client, world):
    response = owner_client.get(reverse("dashboard:index"), QUERY)
    cards = {card.label: card for card in response.context["cards"]}
    listed = owner_client.get(cards["Retention"].url)
    assert listed.status_code == 200
    assert listed.context["page_obj"].paginator.count == 2
    page = listed.content.decode()
    for name in ("Ann", "Gus"):
        assert world.customers[name].get_absolute_url() in page
    assert world.customers["Bob"].get_absolute_url() not in page
    cell = response.context["tables"]["cohorts"].rows[-1][1]  # March cohort size
    assert owner_client.get(cell.url).context["page_obj"].paginator.count == 2


def test_a_list_is_handed_to_outreach_as_a_segment(owner_client, world):
    url = reverse("dashboard:customers", args=["lost"])
    response = owner_client.post(
        f"{url}?as_of=2025-03-31&window=60", {"name": "Lost in March"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("communications:campaign-create")
    segment = SavedSegment.objects.get()
    tagged = Customer.objects.filter(tags__pk=segment.params["tag"])
    assert set(tagged.values_list("pk", flat=True)) == world.ids("Bob", "Dan")
