"""The ledger is append-only, held by PostgreSQL itself.

A trigger refuses to delete a points entry, to change what it records (kind,
points, dates, links, key), and to let what is left of a lot grow: a correction
is a new entry. Allowed: a lot's `remaining` going down, the free text (`reason`,
wiped on erasure) and the owner (`membership`, `customer`, moved on a merge).
TRUNCATE (the test runner's flush) is not a row delete and passes.

SQLite has no such trigger; the services are the only writers there.
"""

from django.db import migrations

IMMUTABLE = [
    "kind",
    "points",
    "occurred_at",
    "available_on",
    "expires_on",
    "purchase_id",
    "amount",
    "shortfall",
    "lot_id",
    "redemption_id",
    "key",
    "created_at",
]
CHANGED = " OR ".join(f"NEW.{name} IS DISTINCT FROM OLD.{name}" for name in IMMUTABLE)

FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION loyalty_pointsentry_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'points entry % cannot be deleted: the ledger is '
                'append-only (add a correcting entry)', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF {CHANGED} THEN
            RAISE EXCEPTION 'points entry % cannot be changed: the ledger is '
                'append-only (add a correcting entry)', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.remaining > OLD.remaining THEN
            RAISE EXCEPTION 'what is left of lot % cannot grow (% -> %)',
                OLD.id, OLD.remaining, NEW.remaining
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER loyalty_pointsentry_append_only
    BEFORE UPDATE OR DELETE ON loyalty_pointsentry
    FOR EACH ROW EXECUTE FUNCTION loyalty_pointsentry_append_only()
    """,
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS loyalty_pointsentry_append_only ON loyalty_pointsentry",
    "DROP FUNCTION IF EXISTS loyalty_pointsentry_append_only()",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
