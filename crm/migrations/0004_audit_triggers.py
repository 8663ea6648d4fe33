"""Audit every change to the customer tables, API tokens and security settings.

PostgreSQL only (on SQLite these operations do nothing). To audit another
table, list it in crm/audit/tables.py and add a crm migration like this one,
depending on the migration that creates the table:

    operations = [AuditTrigger("loyalty_membership")]
"""

from django.db import migrations

from crm.audit.triggers import AuditTrigger


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0003_audit_and_security"),
        ("customers", "0004_erasure_records"),
    ]

    operations = [
        AuditTrigger("customers_customer"),
        AuditTrigger("customers_consentchange"),
        AuditTrigger("customers_purchase"),
        AuditTrigger("customers_erasurerecord"),
        AuditTrigger("crm_apitoken"),
        AuditTrigger("crm_securitysettings"),
    ]
