"""``manage.py retention_report``: the dashboard's numbers, as JSON or text.

    retention_report [--as-of DATE] [--start DATE --end DATE]
                     [--period month|quarter|year] [--format json|text]

Only data up to the end of the as-of day (default: yesterday) is used. Without
--start/--end the period is the month (or --period) holding the as-of date, up
to it. The lifetime value models are fitted for the as-of date (nothing is
stored), unless the nightly task already stored a fit of that date.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from crm.metrics.facts import Plan, default_window_days
from crm.metrics.periods import MetricsInputError, PeriodKind, choose_period, parse_day
from crm.metrics.report import build_report, default_as_of
from crm.metrics.rfm import SEGMENT_NAMES


class Command(BaseCommand):
    help = "Retention, churn, cohorts, RFM, satisfaction and lifetime value figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="YYYY-MM-DD (default: yesterday).")
        parser.add_argument("--start", help="First day of a custom period.")
        parser.add_argument("--end", help="Last day of a custom period.")
        parser.add_argument(
            "--period",
            choices=[PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR],
            default=PeriodKind.MONTH,
            help="Without --start/--end: the calendar period holding the as-of date.",
        )
        parser.add_argument(
            "--window-days",
            type=int,
            default=None,
            help="Activity window in days (default: the setting, 365).",
        )
        parser.add_argument("--format", choices=["json", "text"], default="json")

    def handle(self, *args, **options):
        try:
            as_of = parse_day(options["as_of"], name="--as-of")
            start = parse_day(options["start"], name="--start")
            end = parse_day(options["end"], name="--end")
            kind = PeriodKind.CUSTOM if (start or end) else options["period"]
            if kind != PeriodKind.CUSTOM and as_of is None:
                as_of = default_as_of()
            period, as_of = choose_period(kind=kind, as_of=as_of, start=start, end=end)
        except MetricsInputError as error:
            raise CommandError(str(error)) from None
        window = options["window_days"]
        if window is None:
            window = default_window_days()
        if window < 1:
            raise CommandError("--window-days must be at least 1.")
        report = build_report(Plan(period, as_of, window_days=window), live=True)
        if options["format"] == "json":
            self.stdout.write(json.dumps(report, cls=DjangoJSONEncoder, indent=2))
        else:
            self.stdout.write(render_text(report))


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def render_text(report: dict) -> str:
    c = report["customers"]
    clv = report["clv"]
    lines = [
        f"Retention report: {report['period']['label']} "
        f"(data up to the end of {report['as_of']})",
        f"Activity window: {report['activity_window_days']} days",
        "",
        f"Customers on file      {c['on_file']:>10,}",
        f"Active at start (S)    {c['S']:>10,}",
        f"Active at end (E)      {c['E']:>10,}",
        f"New (N)                {c['N']:>10,}",
        f"Retained (R)           {c['R']:>10,}",
        f"Retention rate         {_pct(report['retention_rate']):>10}",
        f"Churn rate             {_pct(report['churn_rate']):>10}",
        f"Repeat purchase rate   {_pct(report['repeat_purchase_rate']):>10}",
        "Purchase frequency     "
        + (
            "n/a"
            if report["purchase_frequency"] is None
            else f"{report['purchase_frequency']:>10.2f}"
        ),
        f"Revenue                {report['revenue']:>10}",
        f"  from returning       {report['revenue_returning']:>10}",
        f"Average order value    {report['average_order_value'] or 'n/a':>10}",
        f"CSAT                   {_pct(report['csat']['rate']):>10} "
        f"(n = {report['csat']['n']})",
        "NPS                    "
        + (
            "       n/a"
            if report["nps"]["score"] is None
            else f"{report['nps']['score']:>10.0f}"
        )
        + f" (n = {report['nps']['n']})",
        "",
        "RFM segments:",
    ]
    for segment in report["rfm"]["segments"]:
        lines.append(f"  {SEGMENT_NAMES[segment['key']]:<22}{segment['customers']:>8,}")
    lines += ["", f"Lifetime value models (time unit: {clv['time_unit']}):"]
    if clv.get("available"):
        params = ", ".join(f"{k}={v:.4g}" for k, v in clv["params"].items())
        lines += [
            f"  {params}",
            f"  BG/NBD log-likelihood {clv['log_likelihood']:.1f}; "
            f"{clv['customers_used']:,} customers",
        ]
    else:
        lines.append(f"  not available: {clv.get('reason')}")
    return "\n".join(lines) + "\n"
