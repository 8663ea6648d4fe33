"""Mark the interactions the sender wrote as automated, and recompute both
"last personal contact" and "last automated message" of the customers concerned.

Until now a sent message's outbound interaction counted as contact: a first run
of 200 automated e-mails emptied "needs follow-up". The sender wrote each one
with no author, at the message's sent_at, for the same customer; that is how
they are found again here (communications may read customers, not the reverse).
"""

from django.db import migrations
from django.db.models import Exists, Max, OuterRef, Q, Subquery

NOT_CONTACT = ["note"]


def mark_automated(apps, schema_editor):
    Interaction = apps.get_model("customers", "Interaction")
    Customer = apps.get_model("customers", "Customer")
    Message = apps.get_model("communications", "Message")
    sent = Message.objects.filter(
        customer_id=OuterRef("customer_id"),
        channel=OuterRef("kind"),
        sent_at=OuterRef("occurred_at"),
    )
    written_by_sender = Interaction.objects.filter(
        Exists(sent),
        by__isnull=True,
        direction="outbound",
        kind__in=["email", "sms"],
        automated=False,
    )
    if not written_by_sender.update(automated=True):
        return

    def latest(condition: Q):
        rows = (
            Interaction.objects.filter(condition, customer_id=OuterRef("pk"))
            .exclude(kind__in=NOT_CONTACT)
            .values("customer_id")
            .annotate(value=Max("occurred_at"))
            .values("value")[:1]
        )
        return Subquery(rows)

    messaged = Interaction.objects.filter(customer_id=OuterRef("pk"), automated=True)
    Customer.objects.filter(Exists(messaged)).update(
        last_contact_at=latest(Q(automated=False)),
        last_automated_at=latest(Q(automated=True)),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("communications", "0003_message_customer_status_index"),
        ("customers", "0007_interaction_automated_last_automated_at"),
    ]

    operations = [
        migrations.RunPython(mark_automated, migrations.RunPython.noop, elidable=True),
    ]
