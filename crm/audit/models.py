"""AuditEvent: one change to one row of an audited table, written by a trigger."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEventQuerySet(models.QuerySet):
    def of_table(self, table: str) -> AuditEventQuerySet:
        """Changes to one table."""
        return self.filter(table_name=table)

    def of_row(self, table: str, row_id: int | str) -> AuditEventQuerySet:
        """The history of one row."""
        return self.filter(table_name=table, row_id=str(row_id))

    def of_customer(self, customer_id: int) -> AuditEventQuerySet:
        """Changes to a customer and to the rows that belong to them."""
        return self.filter(customer_id=customer_id)


class AuditEvent(models.Model):
    """Who changed what and when. Written only by the database triggers
    (crm/audit/triggers.py); the application reads it and, on erasure, wipes
    its personal values.

    Old and new values are two JSON objects rather than one per-column map:
    an insert or delete then stores the row as PostgreSQL gives it, which keeps
    a bulk import's audit cost to about half of a per-column map's.
    """

    class Action(models.TextChoices):
        INSERT = "insert", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"

    table_name = models.CharField(max_length=63)
    row_id = models.CharField(max_length=64)
    action = models.CharField(max_length=6, choices=Action.choices)
    # An insert has the new row, a delete the old row, an update the changed
    # columns before and after: {"column": value, ...}.
    old_values = models.JSONField(null=True, blank=True)
    new_values = models.JSONField(null=True, blank=True)
    customer_id = models.BigIntegerField(
        null=True, blank=True, help_text="The customer the changed row belongs to."
    )
    # No foreign key constraint: the trail outlives a deleted user account. No
    # index of its own either: audit_actor_idx (actor, at) serves every lookup.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    origin = models.CharField(
        max_length=200,
        blank=True,
        help_text="Where the change came from: a page, an API call, a command, a task.",
    )
    at = models.DateTimeField(default=timezone.now)
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text="When its personal values were wiped."
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["table_name", "row_id"], name="audit_row_idx"),
            models.Index(fields=["at"], name="audit_at_idx"),
            models.Index(fields=["actor", "at"], name="audit_actor_idx"),
            models.Index(fields=["customer_id"], name="audit_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.table_name} #{self.row_id} {self.action} at {self.at}"

    @property
    def changes(self) -> dict[str, dict]:
        """Per column, its old and/or new value: {"column": {"old": …, "new": …}}."""
        old, new = self.old_values or {}, self.new_values or {}
        changes: dict[str, dict] = {}
        for column in sorted({*old, *new}):
            change = {}
            if column in old:
                change["old"] = old[column]
            if column in new:
                change["new"] = new[column]
            changes[column] = change
        return changes
