"""``manage.py clv_scores``: each customer's predicted lifetime value, as CSV.

    clv_scores [--as-of DATE] [--horizon-days N]

One row per customer with an occasion by the end of the as-of day (default:
yesterday): customer (reference, or email when there is none), occasions,
recency_days and age_days (days since the last and the first occasion),
p_alive, expected_occasions and expected_spend over the horizon (default 365
days), historical_value (net spend to date) and predicted_clv (historical value
plus expected spend). The models are fitted on the spot; nothing is stored.
Exits with an error, and no rows, below the minimum of data.
"""

from __future__ import annotations

import csv

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.metrics import clv
from crm.metrics.clv_models import FitFailed
from crm.metrics.periods import MetricsInputError, business_today, parse_day
from crm.metrics.report import default_as_of
from customers.models import Customer

COLUMNS = [
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
BATCH = 5000


class Command(BaseCommand):
    help = "Per-customer lifetime value (BG/NBD + Gamma-Gamma) as CSV on stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="YYYY-MM-DD (default: yesterday).")
        parser.add_argument(
            "--horizon-days", type=int, default=clv.DEFAULT_HORIZON_DAYS
        )

    def handle(self, *args, **options):
        try:
            as_of = parse_day(options["as_of"], name="--as-of") or default_as_of()
        except MetricsInputError as error:
            raise CommandError(str(error)) from None
        if as_of > business_today():
            raise CommandError(f"--as-of {as_of} is in the future.")
        horizon = options["horizon_days"]
        if horizon < 1:
            raise CommandError("--horizon-days must be at least 1.")
        data = clv.load(as_of)
        reason = clv.gate(data)
        if reason:
            raise CommandError(reason)
        try:
            result = clv.fit(data)
        except FitFailed as error:
            raise CommandError(f"The models could not be fitted: {error}") from None
        predictions = clv.predict(result, data, horizon)
        self.stderr.write(
            f"As of {as_of}, time in {clv.TIME_UNIT}, horizon {horizon} days; "
            f"{len(data):,} customers; fitted in {result.seconds:.1f} s."
        )
        writer = csv.writer(self.stdout)
        writer.writerow(COLUMNS)
        recency, age = data.recency_days, data.T.astype(int)
        for start in range(0, len(data), BATCH):
            ids = data.customer_ids[start : start + BATCH]
            names = {
                pk: reference or email or f"#{pk}"
                for pk, reference, email in Customer.objects.filter(
                    pk__in=ids.tolist()
                ).values_list("pk", "reference", "email")
            }
            for offset, pk in enumerate(ids.tolist()):
                i = start + offset
                writer.writerow(
                    [
                        names.get(pk, f"#{pk}"),
                        int(data.occasions[i]),
                        int(recency[i]),
                        int(age[i]),
                        f"{predictions.p_alive[i]:.6f}",
                        f"{predictions.expected_occasions[i]:.6f}",
                        f"{predictions.expected_spend[i]:.2f}",
                        f"{data.historical[i]:.2f}",
                        f"{predictions.predicted_clv[i]:.2f}",
                    ]
                )
