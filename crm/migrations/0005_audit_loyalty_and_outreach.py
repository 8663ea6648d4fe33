"""Audit the loyalty program's settings and the outreach settings too."""

from django.db import migrations

from crm.audit.triggers import AuditTrigger


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0004_audit_triggers"),
        ("loyalty", "0003_ledger_insert_indexes"),
        ("communications", "0003_message_customer_status_index"),
    ]

    operations = [
        AuditTrigger("loyalty_program"),
        AuditTrigger("loyalty_tier"),
        AuditTrigger("loyalty_reward"),
        AuditTrigger("communications_messagetemplate"),
        AuditTrigger("communications_followuprule"),
        AuditTrigger("communications_campaign"),
        AuditTrigger("communications_frequencypolicy"),
    ]
