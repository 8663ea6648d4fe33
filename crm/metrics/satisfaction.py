"""Satisfaction: CSAT and NPS per period.

- CSAT: the share of 4 and 5 answers on the 1-5 scale.
- NPS: the percentage of 9-10 answers minus the percentage of 0-6 answers, on
  the 0-10 scale (from -100 to +100).

Each comes with its n, the number of answers it rests on; no answers, no figure.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q

from customers.models import Feedback

from .periods import Period, end_of_day, start_of_day
from .retention import rate


def satisfaction(periods: list[Period], cutoff: datetime) -> list[dict]:
    """CSAT and NPS for each period, with one query."""
    columns = {}
    for i, period in enumerate(periods):
        within = Q(
            occurred_at__gte=start_of_day(period.first),
            occurred_at__lt=min(end_of_day(period.last), cutoff),
        )
        csat = within & Q(kind=Feedback.Kind.CSAT)
        nps = within & Q(kind=Feedback.Kind.NPS)
        columns.update(
            {
                f"csat_{i}": Count("pk", filter=csat),
                f"satisfied_{i}": Count("pk", filter=csat & Q(score__gte=4)),
                f"nps_{i}": Count("pk", filter=nps),
                f"promoters_{i}": Count("pk", filter=nps & Q(score__gte=9)),
                f"detractors_{i}": Count("pk", filter=nps & Q(score__lte=6)),
            }
        )
    earliest = min(p.first for p in periods)
    row = Feedback.objects.filter(
        occurred_at__gte=start_of_day(earliest), occurred_at__lt=cutoff
    ).aggregate(**columns)
    figures = []
    for i in range(len(periods)):
        answers, promoters, detractors = (
            row[f"nps_{i}"],
            row[f"promoters_{i}"],
            row[f"detractors_{i}"],
        )
        nps = rate(promoters - detractors, answers)
        figures.append(
            {
                "csat": {
                    "rate": rate(row[f"satisfied_{i}"], row[f"csat_{i}"]),
                    "n": row[f"csat_{i}"],
                    "satisfied": row[f"satisfied_{i}"],
                },
                "nps": {
                    "score": None if nps is None else 100 * nps,
                    "n": answers,
                    "promoters": promoters,
                    "passives": answers - promoters - detractors,
                    "detractors": detractors,
                },
            }
        )
    return figures
