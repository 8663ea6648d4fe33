"""Cheaper audit rows for bulk writes (PostgreSQL), the same rows as before.

- crm_audit_changes() turns each changed row into JSON once (see
  crm/audit/triggers.py): a bulk insert's or update's audit rows are written
  several times faster.
- The actor's own index goes: audit_actor_idx (actor, at) serves every lookup
  by actor, and each index is one more write per audit row.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from crm.audit.triggers import install_audit_function


def forwards(apps, schema_editor):
    install_audit_function(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0005_audit_loyalty_and_outreach"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Backwards nothing to undo: the earlier function wrote the same rows.
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
