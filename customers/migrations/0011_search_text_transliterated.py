"""Search text transliterated to ASCII (unidecode), so "lukasz" finds Łukasz.

A frozen copy of customers.models.customer's rule as it is at this migration;
it rewrites search_text in batches (the audit trail ignores that column).
"""

from django.db import migrations
from unidecode import unidecode

BATCH = 2000


def _normalized(text: str) -> str:
    return " ".join(unidecode(text or "").casefold().split())


def _search_text(first_name, last_name, email, phone) -> str:
    parts = [first_name, last_name, email, phone]
    text = _normalized(" ".join(p for p in parts if p))
    digits = "".join(c for c in phone or "" if c.isdigit())
    return f"{text} {digits}".strip() if digits else text


def transliterate(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    last = 0
    while True:
        rows = list(
            Customer.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list(
                "pk", "first_name", "last_name", "email", "phone", "search_text"
            )[:BATCH]
        )
        if not rows:
            return
        changed = []
        for pk, first_name, last_name, email, phone, stored in rows:
            text = _search_text(first_name, last_name, email, phone)
            if text != stored:
                changed.append(Customer(pk=pk, search_text=text))
        Customer.objects.bulk_update(changed, ["search_text"], batch_size=BATCH)
        last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [("customers", "0010_merged_customer")]

    operations = [migrations.RunPython(transliterate, migrations.RunPython.noop)]
