"""Which tables the audit trail covers. This is the one list to extend.

To audit another table: add a line here, then a crm migration with the
operation ``AuditTrigger("<table>")`` (see crm/migrations/0004_audit_triggers.py)
that depends on the migration creating the table. A test checks that every
table listed here has its triggers in the database.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AuditedTable:
    # The column holding the customer's id (for erasure and for searching a
    # customer's history); "" when rows do not belong to one customer.
    customer_column: str = ""
    # Columns left out of the recorded changes: derived copies of other columns,
    # secrets, and bookkeeping that changes on every use.
    ignore: tuple[str, ...] = ()


AUDITED_TABLES: dict[str, AuditedTable] = {
    "customers_customer": AuditedTable(
        customer_column="id", ignore=("search_text", "updated_at")
    ),
    "customers_consentchange": AuditedTable(customer_column="customer_id"),
    # Purchases and their refunds (refunded_amount, refunded_at).
    "customers_purchase": AuditedTable(customer_column="customer_id"),
    "customers_erasurerecord": AuditedTable(customer_column="customer_id"),
    "crm_apitoken": AuditedTable(ignore=("secret_hash", "last_used_at")),
    "crm_securitysettings": AuditedTable(),
    # The team: logins (never the password hash; last_login changes at every
    # login), roles (group memberships), password resets and invitations
    # (crm.team), and two-factor devices (never the key, nor the counters each
    # code changes).
    "auth_user": AuditedTable(ignore=("password", "last_login")),
    "auth_user_groups": AuditedTable(),
    "crm_teammember": AuditedTable(),
    "otp_totp_totpdevice": AuditedTable(
        ignore=(
            "key",
            "last_t",
            "drift",
            "throttling_failure_timestamp",
            "throttling_failure_count",
            "last_used_at",
        )
    ),
    # The loyalty program's settings, tiers and rewards. Points themselves are
    # their own audit trail: the ledger is append-only (a trigger refuses edits)
    # and every entry, adjustments included, records who, why and when.
    "loyalty_program": AuditedTable(),
    "loyalty_tier": AuditedTable(),
    "loyalty_reward": AuditedTable(),
    # Outreach settings: templates, rules, campaigns and the frequency policy.
    "communications_messagetemplate": AuditedTable(),
    "communications_followuprule": AuditedTable(),
    "communications_campaign": AuditedTable(),
    "communications_frequencypolicy": AuditedTable(),
}
