"""The PostgreSQL side of the audit trail.

One plpgsql function, crm_audit_changes(), serves every audited table. It runs
once per statement (not per row) with the statement's transition tables, so a
bulk insert or an ``update()`` of 100,000 rows writes its audit rows set-wise in
the same transaction; nothing can change an audited table without a trace.

Each audit row holds the table, the row's id, the action, the values before
and after (the whole new row for an insert, the whole old row for a delete, and
for an update only the columns that changed), the customer the row belongs to,
the actor and origin the application put in the transaction-local settings
``crm.actor`` and ``crm.origin`` (see actor.py), and the time.

Not covered: TRUNCATE, and changes made with the triggers disabled (a
superuser's ``session_replication_role = replica``).
"""

from __future__ import annotations

from django.db.migrations.operations.base import Operation

from customers.database import is_postgresql

from .tables import AUDITED_TABLES

# Each row becomes JSON once. A subquery that PostgreSQL may pull up into the
# outer query (here: every "(SELECT to_jsonb(r) ...) n") has its to_jsonb()
# copied into each place that uses it, so the row was converted three times per
# insert and, for an update, the old row once per column compared. "OFFSET 0"
# keeps each subquery a step of its own; the update's two sides are joined on
# the id column itself rather than on JSON. Every audited table has an "id".
FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION crm_audit_changes() RETURNS trigger
LANGUAGE plpgsql AS $function$
DECLARE
    customer_column text := TG_ARGV[0];
    ignored text[] := coalesce(TG_ARGV[1:TG_NARGS - 1], '{}');
    actor_setting text := current_setting('crm.actor', true);
    actor bigint;
    origin text := left(coalesce(current_setting('crm.origin', true), ''), 200);
BEGIN
    IF actor_setting ~ '^[0-9]{1,18}$' THEN
        actor := actor_setting::bigint;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO crm_auditevent (table_name, row_id, action, old_values,
                                    new_values, customer_id, actor_id, origin, at)
        SELECT TG_TABLE_NAME, n.id::text, 'insert', NULL, n.data,
               CASE WHEN customer_column <> ''
                    THEN (n.data ->> customer_column)::bigint END,
               actor, origin, now()
          FROM (SELECT r.id, to_jsonb(r) - ignored AS data
                  FROM audit_new r OFFSET 0) n;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO crm_auditevent (table_name, row_id, action, old_values,
                                    new_values, customer_id, actor_id, origin, at)
        SELECT TG_TABLE_NAME, n.id::text, 'update', d.old_values, d.new_values,
               CASE WHEN customer_column <> ''
                    THEN (n.data ->> customer_column)::bigint END,
               actor, origin, now()
          FROM (SELECT r.id, to_jsonb(r) - ignored AS data
                  FROM audit_new r OFFSET 0) n
          JOIN (SELECT r.id, to_jsonb(r) AS data FROM audit_old r OFFSET 0) o
            ON o.id = n.id
         CROSS JOIN LATERAL (
               SELECT jsonb_object_agg(f.key, o.data -> f.key) AS old_values,
                      jsonb_object_agg(f.key, f.value) AS new_values
                 FROM jsonb_each(n.data) f
                WHERE f.value IS DISTINCT FROM o.data -> f.key) d
         WHERE d.new_values IS NOT NULL;
    ELSE
        INSERT INTO crm_auditevent (table_name, row_id, action, old_values,
                                    new_values, customer_id, actor_id, origin, at)
        SELECT TG_TABLE_NAME, o.id::text, 'delete', o.data, NULL,
               CASE WHEN customer_column <> ''
                    THEN (o.data ->> customer_column)::bigint END,
               actor, origin, now()
          FROM (SELECT r.id, to_jsonb(r) - ignored AS data
                  FROM audit_old r OFFSET 0) o;
    END IF;
    RETURN NULL;
END
$function$;
"""

# (trigger name suffix, event, transition tables)
TRIGGERS = (
    ("insert", "INSERT", "REFERENCING NEW TABLE AS audit_new"),
    ("update", "UPDATE", "REFERENCING OLD TABLE AS audit_old NEW TABLE AS audit_new"),
    ("delete", "DELETE", "REFERENCING OLD TABLE AS audit_old"),
)


def trigger_name(action: str) -> str:
    # Trigger names are per table in PostgreSQL: the same three on each table.
    return f"crm_audit_{action}"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def install_audit_function(schema_editor) -> None:
    """(Re)create crm_audit_changes() (PostgreSQL only); the triggers call it by
    name, so a new version applies to every audited table at once."""
    if is_postgresql(schema_editor.connection):
        schema_editor.execute(FUNCTION_SQL)


def install_audit_trigger(schema_editor, table: str) -> None:
    """(Re)create the audit function and attach it to `table` (PostgreSQL only).

    Idempotent: running it again replaces the triggers, e.g. after the table's
    entry in AUDITED_TABLES changed.
    """
    if not is_postgresql(schema_editor.connection):
        return
    config = AUDITED_TABLES[table]
    arguments = ", ".join(
        _literal(value) for value in (config.customer_column, *config.ignore)
    )
    quoted_table = schema_editor.quote_name(table)
    install_audit_function(schema_editor)
    for action, event, referencing in TRIGGERS:
        name = schema_editor.quote_name(trigger_name(action))
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {quoted_table}")
        schema_editor.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {quoted_table} {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION crm_audit_changes({arguments})"
        )


def remove_audit_trigger(schema_editor, table: str) -> None:
    if not is_postgresql(schema_editor.connection):
        return
    quoted_table = schema_editor.quote_name(table)
    for action, _, _ in TRIGGERS:
        name = schema_editor.quote_name(trigger_name(action))
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {quoted_table}")


class AuditTrigger(Operation):
    """Migration operation: audit every change to `table` (see tables.py).

    On databases other than PostgreSQL it does nothing.
    """

    reversible = True
    reduces_to_sql = False

    def __init__(self, table: str) -> None:
        self.table = table

    def state_forwards(self, app_label, state) -> None:
        pass  # no model changes: triggers live only in the database

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        install_audit_trigger(schema_editor, self.table)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        remove_audit_trigger(schema_editor, self.table)

    def describe(self) -> str:
        return f"Audit every change to {self.table}"

    @property
    def migration_name_fragment(self) -> str:
        return f"audit_{self.table}"


def installed_audit_tables(connection) -> set[str]:
    """Tables that have all three audit triggers (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname
              FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             WHERE t.tgname LIKE 'crm_audit_%%' AND NOT t.tgisinternal
             GROUP BY c.relname HAVING count(*) = %s
            """,
            [len(TRIGGERS)],
        )
        return {row[0] for row in cursor.fetchall()}
