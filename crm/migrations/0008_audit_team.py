"""Audit the team: logins, roles, password resets and two-factor devices.

Never the password hash nor a device's key (crm/audit/tables.py).
"""

from django.db import migrations

from crm.audit.triggers import AuditTrigger


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0007_team_member_and_two_factor_requirement"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [
        AuditTrigger("auth_user"),
        AuditTrigger("auth_user_groups"),
        AuditTrigger("crm_teammember"),
        AuditTrigger("otp_totp_totpdevice"),
    ]
