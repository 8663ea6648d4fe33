"""The headline cards and the charts' data, from the report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from .tables import count, money, number, pct


@dataclass
class Card:
    label: str
    value: str
    n: str
    change: str
    # "up", "down" or "" (no change or nothing to compare); "good" says whether
    # up is good news for this figure, so the page colours it honestly.
    direction: str
    good: bool | None
    url: str | None = None
    second_url: str | None = None
    second_label: str = ""


def _change_count(now, before) -> tuple[str, str]:
    if now is None or before is None:
        return "", ""
    diff = now - before
    return f"{diff:+,}", "up" if diff > 0 else "down" if diff < 0 else ""


def _change_rate(now, before) -> tuple[str, str]:
    if now is None or before is None:
        return "no comparison", ""
    diff = 100 * (now - before)
    return f"{diff:+.1f} pts", "up" if diff > 0 else "down" if diff < 0 else ""


def _change_money(now, before) -> tuple[str, str]:
    if now is None or before is None:
        return "no comparison", ""
    now, before = Decimal(now), Decimal(before)
    if not before:
        return money(now - before), "up" if now > before else ""
    ratio = (now - before) / before * 100
    return f"{ratio:+.1f}%", "up" if now > before else "down" if now < before else ""


def _change_number(now, before, digits=2) -> tuple[str, str]:
    if now is None or before is None:
        return "no comparison", ""
    diff = now - before
    return f"{diff:+.{digits}f}", "up" if diff > 0 else "down" if diff < 0 else ""


def headline_cards(report: dict, list_url: Callable[..., str]) -> list[Card]:
    now, before = report, report["previous"]
    c, b = now["customers"], before["customers"]
    cards = []

    def add(label, value, n, change, good, url=None, **extra):
        cards.append(Card(label, value, n, change[0], change[1], good, url, **extra))

    add(
        "Customers",
        count(c["on_file"]),
        "on file at the end",
        _change_count(c["on_file"], b["on_file"]),
        True,
    )
    add(
        "Active customers",
        count(c["E"]),
        f"occasion in the last {report['activity_window_days']} days",
        _change_count(c["E"], b["E"]),
        True,
        list_url("active"),
    )
    add(
        "New customers",
        count(c["N"]),
        "first occasion in the period",
        _change_count(c["N"], b["N"]),
        True,
        list_url("new"),
    )
    add(
        "Retention",
        pct(now["retention_rate"]),
        f"R {count(c['R'])} of S {count(c['S'])}",
        _change_rate(now["retention_rate"], before["retention_rate"]),
        True,
        list_url("retained"),
        second_url=list_url("at_start"),
        second_label="customers in S",
    )
    add(
        "Churn",
        pct(now["churn_rate"]),
        f"{count(c['S'] - c['R'])} of S {count(c['S'])} lost",
        _change_rate(now["churn_rate"], before["churn_rate"]),
        False,
        list_url("lost"),
    )
    add(
        "Repeat purchase rate",
        pct(now["repeat_purchase_rate"]),
        f"{count(now['repeat_customers'])} of {count(now['buying_customers'])} buyers",
        _change_rate(now["repeat_purchase_rate"], before["repeat_purchase_rate"]),
        True,
        list_url("repeat"),
    )
    add(
        "Revenue",
        money(now["revenue"]),
        f"{count(now['purchases'])} purchases, net of refunds",
        _change_money(now["revenue"], before["revenue"]),
        True,
    )
    returning_share = (
        float(Decimal(now["revenue_returning"]) / Decimal(now["revenue"]))
        if Decimal(now["revenue"])
        else None
    )
    add(
        "Revenue from returning customers",
        money(now["revenue_returning"]),
        f"{pct(returning_share)} of revenue",
        _change_money(now["revenue_returning"], before["revenue_returning"]),
        True,
    )
    add(
        "Average order value",
        money(now["average_order_value"]),
        f"n = {count(now['purchases'])} purchases",
        _change_money(now["average_order_value"], before["average_order_value"]),
        True,
    )
    add(
        "Purchase frequency",
        number(now["purchase_frequency"]),
        f"{count(now['occasions'])} occasions, {count(now['buyers'])} buyers",
        _change_number(now["purchase_frequency"], before["purchase_frequency"]),
        True,
    )
    add(
        "CSAT",
        pct(now["csat"]["rate"]),
        f"n = {count(now['csat']['n'])} answers",
        _change_rate(now["csat"]["rate"], before["csat"]["rate"]),
        True,
    )
    nps_now, nps_before = now["nps"]["score"], before["nps"]["score"]
    add(
        "NPS",
        number(nps_now, 0),
        f"n = {count(now['nps']['n'])} answers",
        _change_number(nps_now, nps_before, 0),
        True,
    )
    return cards


def chart_data(report: dict) -> dict:
    """What static/js/dashboard.js draws (read from a json_script element)."""
    trend = report["trend"]
    labels = [p["label"] for p in trend]

    def percent(values):
        return [None if v is None else round(100 * v, 2) for v in values]

    return {
        "retention": {
            "labels": labels,
            "retention": percent(p["retention_rate"] for p in trend),
            "churn": percent(p["churn_rate"] for p in trend),
        },
        "revenue": {
            "labels": labels,
            "new": [float(p["revenue_new"]) for p in trend],
            "returning": [float(p["revenue_returning"]) for p in trend],
        },
        "satisfaction": {
            "labels": labels,
            "csat": percent(p["csat"] for p in trend),
            "nps": [None if p["nps"] is None else round(p["nps"], 1) for p in trend],
        },
        "rfm": {
            "labels": [s["name"] for s in report["rfm"]["segments"]],
            "customers": [s["customers"] for s in report["rfm"]["segments"]],
            "previous": [s["previous"] for s in report["rfm"]["segments"]],
        },
    }
