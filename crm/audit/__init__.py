"""The audit trail: who changed what and when, written by PostgreSQL triggers.

- tables.py: AUDITED_TABLES, the one list of audited tables.
- triggers.py: the trigger function and AuditTrigger, the migration operation
  that attaches it to a table.
- actor.py: the middleware that tells the triggers who is acting in a request;
  commands and jobs use customers.audit_actor.acting_as().
- models.py: AuditEvent, the rows the triggers write.
- erasure.py: wiping a customer's personal values from the trail.
- views.py: the Owner's search page.

SQLite (the development default) has no such triggers: there the trail stays
empty and the rest of the app runs as usual.
"""
