"""CSV import of interactions (calls, emails, meetings, notes) from another system.

Columns: ``customer`` (a reference or email), ``occurred_at`` (YYYY-MM-DD or an ISO
date-time), ``kind`` (call, email, sms, meeting, visit, note, support), and
optionally ``direction`` (inbound, outbound, internal; outbound when blank),
``subject``, ``body`` and ``by`` (the username of who had the contact). Rows go
through ``log_interaction``, so "last contact" stays right. A row matching a
stored interaction of the same customer, moment, kind and subject is unchanged:
importing a file twice adds nothing.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from . import services
from .csv_input import RowError, parse_moment
from .import_rules import find_customer_by_key
from .imports import Importer
from .models import Interaction

INTERACTION_COLUMNS = {
    "customer",
    "occurred_at",
    "kind",
    "direction",
    "subject",
    "body",
    "by",
}


class InteractionImporter(Importer):
    columns = INTERACTION_COLUMNS

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.users: dict[str, object] = {}

    def required(self, header: set[str]) -> str | None:
        missing = {"customer", "occurred_at", "kind"} - header
        if missing:
            return (
                f"an interactions file needs the columns {', '.join(sorted(missing))}."
            )
        return None

    def choice(self, column: str, value: str, choices, default: str = "") -> str:
        value = value.lower() or default
        if value not in choices.values:
            raise RowError(column, value, f"Use one of: {', '.join(choices.values)}.")
        return value

    def user(self, username: str):
        if not username:
            return self.by
        if username not in self.users:
            user = get_user_model().objects.filter(username__iexact=username).first()
            if user is None:
                raise RowError("by", username, "No user has this username.")
            self.users[username] = user
        return self.users[username]

    def apply(self, row: dict[str, str]) -> str:
        who = row["customer"]
        if not who:
            raise RowError("customer", "", "Give the customer's reference or email.")
        occurred_at = parse_moment("occurred_at", row["occurred_at"])
        kind = self.choice("kind", row["kind"], Interaction.Kind)
        direction = self.choice(
            "direction",
            row.get("direction", ""),
            Interaction.Direction,
            Interaction.Direction.OUTBOUND,
        )
        subject = row.get("subject", "")
        if len(subject) > 200:
            raise RowError("subject", subject[:40], "Use at most 200 characters.")
        by = self.user(row.get("by", ""))
        customer = find_customer_by_key(who)
        if customer is None:
            raise RowError(
                "customer",
                who,
                "No customer has this reference or email (import customers first).",
            )
        if customer.interactions.filter(
            occurred_at=occurred_at, kind=kind, subject=subject
        ).exists():
            return "unchanged"
        services.log_interaction(
            customer=customer,
            kind=kind,
            direction=direction,
            subject=subject,
            body=row.get("body", ""),
            occurred_at=occurred_at,
            by=by,
        )
        return "created"
