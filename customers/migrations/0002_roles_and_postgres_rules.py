"""The Staff and Owner groups, and the rules only PostgreSQL can hold.

The future check uses statement_timestamp(), not now(): now() is when the
transaction began, which would refuse "just now" purchases in a long import.

SQLite has no trigram index and refuses now() in a CHECK constraint; there the
model's clean() and the services enforce "not in the future" instead.
"""

from django.db import migrations

STAFF_PERMISSIONS = {
    "customers": [
        "view_customer",
        "add_customer",
        "change_customer",
        "view_interaction",
        "add_interaction",
        "view_purchase",
        "add_purchase",
        "view_feedback",
        "add_feedback",
        "view_tag",
        "add_tag",
        "change_tag",
        "view_followup",
        "add_followup",
        "change_followup",
        "view_savedsegment",
        "add_savedsegment",
    ],
}

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS cust_search_trgm_idx ON customers_customer "
    "USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS cust_contact_desc_idx ON customers_customer "
    "(last_contact_at DESC NULLS LAST, id DESC)",
    "CREATE INDEX IF NOT EXISTS cust_purchase_desc_idx ON customers_customer "
    "(last_purchase_at DESC NULLS LAST, id DESC)",
    "ALTER TABLE customers_purchase ADD CONSTRAINT purchase_not_in_future "
    "CHECK (occurred_at <= statement_timestamp() + interval '5 minutes')",
]
POSTGRES_BACKWARD = [
    "ALTER TABLE customers_purchase DROP CONSTRAINT IF EXISTS purchase_not_in_future",
    "DROP INDEX IF EXISTS cust_search_trgm_idx",
    "DROP INDEX IF EXISTS cust_contact_desc_idx",
    "DROP INDEX IF EXISTS cust_purchase_desc_idx",
]


def make_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None

    staff, _ = Group.objects.get_or_create(name="Staff")
    owner, _ = Group.objects.get_or_create(name="Owner")
    for app_label, codenames in STAFF_PERMISSIONS.items():
        types = ContentType.objects.filter(app_label=app_label)
        staff.permissions.add(
            *Permission.objects.filter(content_type__in=types, codename__in=codenames)
        )
        owner.permissions.add(*Permission.objects.filter(content_type__in=types))
    # Owners add and manage their staff's logins in the admin.
    owner.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="auth",
            codename__in=["view_user", "add_user", "change_user", "view_group"],
        )
    )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Staff", "Owner"]).delete()


def postgres_forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_FORWARD:
            schema_editor.execute(statement)


def postgres_backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(make_groups, remove_groups),
        migrations.RunPython(postgres_forward, postgres_backward),
    ]
