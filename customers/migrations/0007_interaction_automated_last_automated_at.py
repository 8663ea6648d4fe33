from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_owner_covered_by_owner_name_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="last_automated_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                null=True,
                verbose_name="last automated message",
            ),
        ),
        migrations.AddField(
            model_name="interaction",
            name="automated",
            field=models.BooleanField(
                db_default=False,
                default=False,
                editable=False,
                help_text="Sent by a rule or campaign, not by a person.",
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="last_contact_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                null=True,
                verbose_name="last personal contact",
            ),
        ),
    ]
