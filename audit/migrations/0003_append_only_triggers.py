"""Database triggers that make the audit log append-only below Django too.

PostgreSQL: UPDATE, DELETE and TRUNCATE on audit_auditevent raise. DELETE (and TRUNCATE, which only a test
database flush uses) pass only while the transaction-local setting `ozonseat.audit_retention` is 'on' — set
with set_config(..., true) by `audit.immutability.removal_switch`, which only the retention command uses.
SQLite: UPDATE raises; DELETE raises unless the one-row table audit_removal_switch holds a row, inserted and
removed again inside the retention transaction.

SQLite rebuilds a table on most ALTERs (copy, drop, rename), which drops its triggers: a later migration
that alters audit_auditevent must install them again (call install_triggers).
"""

from django.db import migrations

POSTGRESQL_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'TRUNCATE')
           AND coalesce(current_setting('ozonseat.audit_retention', true), '') = 'on' THEN
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'audit events are append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
    """
    CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()
    """,
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent",
    """
    CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()
    """,
]
POSTGRESQL_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_refuse_change()",
]
SQLITE_INSTALL = [
    "CREATE TABLE IF NOT EXISTS audit_removal_switch (id INTEGER PRIMARY KEY CHECK (id = 1))",
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    BEGIN
        SELECT RAISE(ABORT, 'audit events are append-only: UPDATE on audit_auditevent refused');
    END
    """,
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
    WHEN NOT EXISTS (SELECT 1 FROM audit_removal_switch)
    BEGIN
        SELECT RAISE(ABORT, 'audit events are append-only: DELETE on audit_auditevent refused');
    END
    """,
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TABLE IF EXISTS audit_removal_switch",
]


def _run(schema_editor, statements_by_vendor):
    statements = statements_by_vendor.get(schema_editor.connection.vendor)
    if statements is None:
        raise NotImplementedError(
            f"No append-only triggers for {schema_editor.connection.vendor}: add them to this migration."
        )
    for statement in statements:
        schema_editor.execute(statement, params=None)


def install_triggers(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_INSTALL, "sqlite": SQLITE_INSTALL})


def remove_triggers(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_REMOVE, "sqlite": SQLITE_REMOVE})


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_event_store_checkpoint_policy")]

    operations = [migrations.RunPython(install_triggers, remove_triggers)]
