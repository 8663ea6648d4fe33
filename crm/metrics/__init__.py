"""The dashboard's figures, computed in the database for PostgreSQL and SQLite.

One module for every number the owners' dashboard, its CSV downloads and
``manage.py retention_report`` show (crm.metrics.report builds them all):

- occasions: purchase occasions (a customer's purchases on one local day);
- facts: one row per customer with what the figures count (Plan says what);
- retention: S, E, N, R, retention and churn, repeat buying, revenue flows;
- cohorts, rfm, satisfaction: the cohort table, RFM segments, CSAT and NPS;
- clv_models, clv, services: BG/NBD and Gamma-Gamma, fitted and stored nightly;
- comparisons: what loyalty and outreach are worth;
- lists: the customers behind each number.
"""

from .facts import Plan
from .periods import MetricsInputError, Period, PeriodKind, choose_period
from .report import build_report, cached_report, default_plan

__all__ = [
    "MetricsInputError",
    "Period",
    "PeriodKind",
    "Plan",
    "build_report",
    "cached_report",
    "choose_period",
    "default_plan",
]
