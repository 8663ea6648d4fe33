"""retention_report and clv_scores: their interfaces, and refusals of bad input."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from .metrics_world import ZONE, build_world
from .test_metrics_clv import write_simulated_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    settings.TIME_ZONE = ZONE
    return build_world()


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_retention_report_json_has_the_interface_keys(world):
    report = json.loads(
        run("retention_report", "--as-of", "2025-03-31", "--window-days", "60")
    )
    for key in (
        "as_of",
        "period",
        "customers",
        "retention_rate",
        "churn_rate",
        "repeat_purchase_rate",
        "purchase_frequency",
        "average_order_value",
        "cohorts",
        "rfm",
        "csat",
        "nps",
        "clv",
    ):
        assert key in report, key
    assert report["as_of"] == "2025-03-31"
    assert report["period"]["start"] == "2025-03-01"
    assert {k: report["customers"][k] for k in "SENR"} == {
        "S": 4,
        "E": 4,
        "N": 2,
        "R": 2,
    }
    clv = report["clv"]
    assert clv["time_unit"] in ("days", "weeks")
    assert clv["customers_used"] == 6
    assert clv["params"] is None  # below the data gate: no made-up parameters
    assert clv["log_likelihood"] is None
    assert "300 customers" in clv["reason"]


def test_retention_report_custom_period_and_text(world):
    text = run(
        "retention_report",
        "--start",
        "2025-01-01",
        "--end",
        "2025-03-31",
        "--window-days",
        "30",
        "--format",
        "text",
    )
    assert "01 Jan 2025 – 31 Mar 2025" in text
    assert "New (N)                         5" in text
    assert "Retention rate                n/a" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--as-of", "2999-01-01"], "in the future"),
        (["--as-of", "31.03.2025"], "is not a date"),
        (["--start", "2025-03-10", "--end", "2025-03-01"], "before the start"),
        (["--start", "2025-03-10"], "needs both"),
        (["--window-days", "0"], "at least 1"),
    ],
)
def test_retention_report_refuses_bad_input(world, args, message):
    with pytest.raises(CommandError, match=message):
        run("retention_report", *args)


def test_clv_scores_refuses_below_the_data_gate(world):
    with pytest.raises(CommandError, match="at least 300 customers"):
        run("clv_scores", "--as-of", "2025-03-31")


def test_clv_scores_refuses_bad_dates(world):
    with pytest.raises(CommandError, match="is not a date"):
        run("clv_scores", "--as-of", "tomorrow")
    with pytest.raises(CommandError, match="in the future"):
        run("clv_scores", "--as-of", "2999-01-01")


def test_clv_scores_writes_one_row_per_customer(settings):
    settings.CLV_MIN_CUSTOMERS = 300
    settings.CLV_MIN_REPEAT_CUSTOMERS = 50
    as_of = timezone.localdate() - timedelta(days=1)
    buyers = write_simulated_shop(500, seed=5, as_of=as_of)
    out = run("clv_scores", "--horizon-days", "180")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == buyers
    assert list(rows[0]) == [
        "customer",
        "occasions",
        "recency_days",
        "age_days",
        "p_alive",
        "expected_occasions",
        "expected_spend",
        "historical_value",
        "predicted_clv",
    ]
    assert {row["customer"] for row in rows} == {
        f"sim{i}@example.com" for i in range(500)
    }
    for row in rows:
        assert 0 <= float(row["p_alive"]) <= 1
        assert int(row["recency_days"]) <= int(row["age_days"])
        total = float(row["historical_value"]) + float(row["expected_spend"])
        assert float(row["predicted_clv"]) == pytest.approx(total, abs=0.011)
