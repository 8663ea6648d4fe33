"""DueSet: who a follow-up rule makes due, as one query, and its helpers.

Shared by communications.triggers (the customers' triggers) and
communications.loyalty_bridge (loyalty's), which communications.planner turns
into one INSERT … SELECT each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db import connection
from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from .models import FollowUpRule, Message


@dataclass
class DueSet:
    queryset: QuerySet
    columns: dict[str, Any]  # Message field -> SQL expression, per row
    constants: dict[str, Any] = field(default_factory=dict)  # same for every row

    def annotated(self) -> QuerySet:
        """One row per message, its columns under m_<field> names."""
        return self.queryset.order_by().values(
            **{f"m_{name}": expression for name, expression in self.columns.items()}
        )

    def count_new_customers(self) -> int:
        """How many customers the rule would reach now (no message written yet).

        On the due set as a derived table, as the planner inserts from it: its
        key may be built from an aggregate (points expiring), which a WHERE on
        the due set's own query could not test.
        """
        inner_sql, params = self.annotated().query.sql_with_params()
        quote = connection.ops.quote_name
        sql = (
            f"SELECT COUNT(DISTINCT due.{quote('m_customer_id')}) FROM ({inner_sql})"
            f" due WHERE NOT EXISTS (SELECT 1 FROM {quote(Message._meta.db_table)} m"
            f" WHERE m.{quote('key')} = due.{quote('m_key')})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]


def text(expression) -> Cast:
    return Cast(expression, output_field=CharField())


def key_expression(rule: FollowUpRule, customer: str, *parts) -> Concat:
    """``<trigger>:<rule>:<customer>[:<part>…]``: the occurrence's unique key."""
    pieces = [Value(f"{rule.spec.key}:{rule.pk}:"), text(F(customer))]
    for part in parts:
        pieces += [Value(":"), part]
    return Concat(*pieces, output_field=CharField())


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
