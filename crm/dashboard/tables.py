"""The dashboard's tables, built from the report: the page shows them beside each
chart and the CSV downloads write them, so both show the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma

from crm.metrics.rfm import SEGMENT_NAMES


def pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def money(value: Decimal | str | None) -> str:
    if value is None:
        return "n/a"
    return intcomma(f"{Decimal(value):.2f}")


def number(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def count(value: int | None) -> str:
    return "n/a" if value is None else intcomma(value)


@dataclass
class Cell:
    raw: Any
    text: str
    url: str | None = None
    # The cohort heatmap colours a cell by this share (0 to 1).
    share: float | None = None


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    caption: str = ""
    # Columns in the CSV only (the page has the same facts in another form).
    csv_only: frozenset[str] = frozenset()

    @property
    def shown_columns(self) -> list[str]:
        return [c for c in self.columns if c not in self.csv_only]

    @property
    def shown_rows(self) -> list[list[Cell]]:
        keep = [i for i, c in enumerate(self.columns) if c not in self.csv_only]
        return [[row[i] for i in keep] for row in self.rows]

    def csv_rows(self) -> list[list[Any]]:
        return [self.columns] + [
            ["" if c.raw is None else c.raw for c in row] for row in self.rows
        ]


def _cell(value: Any, fmt: Callable[[Any], str], url: str | None = None) -> Cell:
    return Cell(value, fmt(value), url)


def _rate(value):
    return None if value is None else round(value, 6)


def trend_table(report: dict, list_url: Callable[..., str]) -> Table:
    table = Table(
        "retention",
        "Retention and churn, last periods",
        ["period", "start", "end", "S", "E", "N", "R", "retention_rate", "churn_rate"],
        caption="S active at the start, E at the end, N acquired, R = of S still "
        "active at the end.",
        csv_only=frozenset({"start", "end"}),
    )
    for point in report["trend"]:
        period = point["period"]
        table.rows.append(
            [
                Cell(point["label"], point["label"]),
                Cell(period["start"], period["start"]),
                Cell(period["end"], period["end"]),
                _cell(point["S"], count),
                _cell(point["E"], count),
                _cell(point["N"], count),
                _cell(point["R"], count),
                Cell(_rate(point["retention_rate"]), pct(point["retention_rate"])),
                Cell(_rate(point["churn_rate"]), pct(point["churn_rate"])),
            ]
        )
    return table


def revenue_table(report: dict) -> Table:
    table = Table(
        "revenue",
        "Revenue from new and returning customers",
        ["period", "revenue_new", "revenue_returning", "revenue"],
        caption="Net of refunds. Returning: customers acquired before the period.",
    )
    for point in report["trend"]:
        new, returning = point["revenue_new"], point["revenue_returning"]
        table.rows.append(
            [
                Cell(point["label"], point["label"]),
                _cell(new, money),
                _cell(returning, money),
                _cell(Decimal(new) + Decimal(returning), money),
            ]
        )
    return table


def satisfaction_table(report: dict) -> Table:
    table = Table(
        "satisfaction",
        "Satisfaction",
        ["period", "csat", "csat_answers", "nps", "nps_answers"],
        caption="CSAT: share of 4-5 answers (1-5). NPS: % 9-10 minus % 0-6 (0-10).",
    )
    for point in report["trend"]:
        table.rows.append(
            [
                Cell(point["label"], point["label"]),
                Cell(_rate(point["csat"]), pct(point["csat"])),
                _cell(point["csat_n"], count),
                Cell(
                    None if point["nps"] is None else round(point["nps"], 1),
                    number(point["nps"], 0),
                ),
                _cell(point["nps_n"], count),
            ]
        )
    return table


def cohort_table(
    report: dict, list_url: Callable[..., str], *, revenue: bool = False
) -> Table:
    cohorts = report["cohorts"]["cohorts"]
    months = max((len(c["active_share"]) for c in cohorts), default=0)
    key = "cohort_revenue" if revenue else "cohorts"
    table = Table(
        key,
        "Cohorts: net revenue per customer by month"
        if revenue
        else "Cohorts: share active by month after acquisition",
        ["cohort", "customers"] + [f"month_{k}" for k in range(months)],
        caption="Blank: the month is not over yet.",
    )
    for cohort in cohorts:
        row = [
            Cell(cohort["month"], cohort["month"]),
            _cell(
                cohort["size"],
                count,
                list_url("cohort", f"{cohort['month']}:0") if cohort["size"] else None,
            ),
        ]
        for k in range(months):
            if k >= len(cohort["active_share"]) or cohort["active_share"][k] is None:
                row.append(Cell(None, ""))
                continue
            share = cohort["active_share"][k]
            if revenue:
                per = cohort["revenue_per_customer"][k]
                cell = Cell(per, money(per))
            else:
                cell = Cell(
                    _rate(share),
                    pct(share, 0),
                    list_url("cohort", f"{cohort['month']}:{k}")
                    if cohort["active"][k]
                    else None,
                )
            cell.share = share
            row.append(cell)
        table.rows.append(row)
    return table


def rfm_table(report: dict, list_url: Callable[..., str]) -> Table:
    rfm = report["rfm"]
    table = Table(
        "rfm",
        "RFM segments",
        ["segment", "customers", "previous", "change"],
        caption=f"At the end of the period ({rfm['as_of']}) and of the one before "
        f"({rfm['previous_as_of']}).",
    )
    for segment in rfm["segments"]:
        change = segment["customers"] - segment["previous"]
        table.rows.append(
            [
                Cell(segment["name"], segment["name"]),
                _cell(
                    segment["customers"],
                    count,
                    list_url("segment", segment["key"])
                    if segment["customers"]
                    else None,
                ),
                _cell(segment["previous"], count),
                Cell(change, f"{change:+,}"),
            ]
        )
    return table


def moves_table(report: dict, limit: int = 15) -> Table:
    table = Table(
        "rfm_moves",
        "Movement between segments since the previous period",
        ["from", "to", "customers"],
        caption="Largest moves first; “—” is not a customer yet (or no longer).",
    )
    moves = [m for m in report["rfm"]["moves"] if m["from"] != m["to"]][:limit]
    for move in moves:
        table.rows.append(
            [
                Cell(move["from"] or "", SEGMENT_NAMES.get(move["from"], "—")),
                Cell(move["to"] or "", SEGMENT_NAMES.get(move["to"], "—")),
                _cell(move["customers"], count),
            ]
        )
    return table


def headline_table(report: dict) -> Table:
    """Both periods' headline figures (the cards), for the CSV download."""
    table = Table(
        "headline",
        "Headline figures",
        ["figure", "this_period", "previous_period"],
    )
    now, before = report, report["previous"]
    figures = [
        ("customers_on_file", lambda r: r["customers"]["on_file"]),
        ("active_S_at_start", lambda r: r["customers"]["S"]),
        ("active_E_at_end", lambda r: r["customers"]["E"]),
        ("new_N", lambda r: r["customers"]["N"]),
        ("retained_R", lambda r: r["customers"]["R"]),
        ("retention_rate", lambda r: _rate(r["retention_rate"])),
        ("churn_rate", lambda r: _rate(r["churn_rate"])),
        ("repeat_purchase_rate", lambda r: _rate(r["repeat_purchase_rate"])),
        ("purchase_frequency", lambda r: _rate(r["purchase_frequency"])),
        ("revenue", lambda r: r["revenue"]),
        ("revenue_returning", lambda r: r["revenue_returning"]),
        ("average_order_value", lambda r: r["average_order_value"]),
        ("purchases", lambda r: r["purchases"]),
        ("csat", lambda r: _rate(r["csat"]["rate"])),
        ("csat_answers", lambda r: r["csat"]["n"]),
        ("nps", lambda r: r["nps"]["score"]),
        ("nps_answers", lambda r: r["nps"]["n"]),
    ]
    for name, read in figures:
        table.rows.append(
            [Cell(name, name), Cell(read(now), str(read(now))), Cell(read(before), "")]
        )
    return table


def all_tables(report: dict, list_url: Callable[..., str]) -> dict[str, Table]:
    tables = [
        headline_table(report),
        trend_table(report, list_url),
        revenue_table(report),
        satisfaction_table(report),
        cohort_table(report, list_url),
        cohort_table(report, list_url, revenue=True),
        rfm_table(report, list_url),
        moves_table(report),
    ]
    return {table.key: table for table in tables}
