"""Fewer indexes on the ledger: each foreign key here is covered by another index
(see PointsEntry), and every index is work on each of the ledger's inserts.

(`lot` keeps its index: dropping it would take the one-expiry-per-lot unique
index with it, the only single-column index on that column.)"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_roles_and_postgres_rules"),
        ("loyalty", "0002_append_only_ledger"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="pointsentry",
            name="by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="pointsentry",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="points_entries",
                to="customers.customer",
            ),
        ),
        migrations.AlterField(
            model_name="pointsentry",
            name="redemption",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="loyalty.redemption",
            ),
        ),
    ]
