"""Least privilege below Django (PostgreSQL).

The append-only triggers of 0003 let anyone who could call set_config('ozonseat.audit_retention', 'on')
delete events, and the chain heads had no protection. From here on:

- audit_may_bypass(table): true only for a superuser or a member of the role that owns the table, the
  roles that could switch the triggers off anyway. Removal (with the retention switch) and chain-head
  writes pass only for them, so an application role given a broad GRANT still cannot remove or rewind.
- Chain heads are written only through SECURITY DEFINER functions owned by the migrating (owner) role:
  audit_lock_chain (create if missing, lock, return the head) and audit_advance_chain (move the head to an
  event that links to it, one step at a time).
- audit_apply_retention(seller, up_to_sequence) removes a seller's oldest events as its AuditPolicy allows
  and moves the checkpoint; EXECUTE is revoked from PUBLIC (`manage.py db_roles` grants it to the
  retention role only).

SQLite keeps the triggers of 0003 (see audit/README.md for what they do not protect against).
"""

from django.db import migrations

ZERO = "repeat('0', 64)"

POSTGRESQL_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION audit_may_bypass(relation oid) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
        SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)
            OR pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = relation), 'MEMBER')
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'TRUNCATE')
           AND coalesce(current_setting('ozonseat.audit_retention', true), '') = 'on'
           AND audit_may_bypass(TG_RELID) THEN
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
    """
    CREATE OR REPLACE FUNCTION audit_guard_chain() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
    BEGIN
        IF audit_may_bypass(TG_RELID) AND (
            coalesce(current_setting('ozonseat.audit_chain_write', true), '') = 'on'
            OR (TG_OP IN ('DELETE', 'TRUNCATE')
                AND coalesce(current_setting('ozonseat.audit_retention', true), '') = 'on')
        ) THEN
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            ELSIF TG_OP = 'TRUNCATE' THEN
                RETURN NULL;
            END IF;
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit chain heads move only through audit_advance_chain: % on % refused',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    "DROP TRIGGER IF EXISTS audit_chain_guarded ON audit_auditchain",
    """
    CREATE TRIGGER audit_chain_guarded BEFORE INSERT OR UPDATE OR DELETE ON audit_auditchain
    FOR EACH ROW EXECUTE FUNCTION audit_guard_chain()
    """,
    "DROP TRIGGER IF EXISTS audit_chain_no_truncate ON audit_auditchain",
    """
    CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_auditchain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_guard_chain()
    """,
    f"""
    CREATE OR REPLACE FUNCTION audit_lock_chain(p_key text, p_seller_id bigint)
    RETURNS SETOF audit_auditchain
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM audit_auditchain WHERE key = p_key) THEN
            PERFORM set_config('ozonseat.audit_chain_write', 'on', true);
            INSERT INTO audit_auditchain
                (key, seller_id, last_sequence, last_hash, checkpoint_sequence, checkpoint_hash)
            VALUES (p_key, p_seller_id, 0, {ZERO}, 0, {ZERO})
            ON CONFLICT (key) DO NOTHING;
            PERFORM set_config('ozonseat.audit_chain_write', 'off', true);
        END IF;
        RETURN QUERY SELECT * FROM audit_auditchain WHERE key = p_key FOR UPDATE;
    END;
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION audit_advance_chain(p_key text, p_sequence bigint, p_hash text)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DECLARE
        head audit_auditchain%ROWTYPE;
        appended audit_auditevent%ROWTYPE;
    BEGIN
        SELECT * INTO head FROM audit_auditchain WHERE key = p_key FOR UPDATE;
        SELECT * INTO appended FROM audit_auditevent WHERE hash = p_hash;
        IF head.id IS NULL OR appended.id IS NULL
           OR appended.seller_id IS DISTINCT FROM head.seller_id
           OR appended.sequence <> p_sequence
           OR p_sequence <> head.last_sequence + 1
           OR appended.previous_hash <> head.last_hash THEN
            RAISE EXCEPTION 'audit chain %: #% does not extend the head #%', p_key, p_sequence,
                head.last_sequence USING ERRCODE = 'insufficient_privilege';
        END IF;
        PERFORM set_config('ozonseat.audit_chain_write', 'on', true);
        UPDATE audit_auditchain SET last_sequence = p_sequence, last_hash = p_hash WHERE id = head.id;
        PERFORM set_config('ozonseat.audit_chain_write', 'off', true);
    END;
    $$
    """,
    # The newest event's moment (the app's clock) or the database's, whichever is later, minus the
    # policy: a retention role cannot remove more than the seller's setting allows, with an hour's slack
    # for clocks that differ.
    """
    CREATE OR REPLACE FUNCTION audit_apply_retention(p_seller_id bigint, p_up_to_sequence bigint)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DECLARE
        days integer;
        head audit_auditchain%ROWTYPE;
        last_removed audit_auditevent%ROWTYPE;
        newest timestamptz;
        removed bigint;
    BEGIN
        SELECT retention_days INTO days FROM audit_auditpolicy WHERE seller_id = p_seller_id;
        IF days IS NULL OR days < 30 THEN
            RAISE EXCEPTION 'seller % keeps its audit log forever: nothing may be removed', p_seller_id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT * INTO head FROM audit_auditchain WHERE key = 'seller:' || p_seller_id FOR UPDATE;
        SELECT * INTO last_removed FROM audit_auditevent
            WHERE seller_id = p_seller_id AND sequence = p_up_to_sequence;
        SELECT created_at INTO newest FROM audit_auditevent
            WHERE seller_id = p_seller_id AND sequence = head.last_sequence;
        IF head.id IS NULL OR last_removed.id IS NULL OR p_up_to_sequence <= head.checkpoint_sequence
           OR last_removed.created_at >= greatest(now(), coalesce(newest, now()))
                                         - make_interval(days => days) + interval '1 hour' THEN
            RAISE EXCEPTION 'seller %: event #% may not be removed under its retention policy',
                p_seller_id, p_up_to_sequence USING ERRCODE = 'insufficient_privilege';
        END IF;
        PERFORM set_config('ozonseat.audit_retention', 'on', true);
        DELETE FROM audit_auditevent WHERE seller_id = p_seller_id AND sequence <= p_up_to_sequence;
        GET DIAGNOSTICS removed = ROW_COUNT;
        PERFORM set_config('ozonseat.audit_retention', 'off', true);
        PERFORM set_config('ozonseat.audit_chain_write', 'on', true);
        UPDATE audit_auditchain SET checkpoint_sequence = p_up_to_sequence,
            checkpoint_hash = last_removed.hash WHERE id = head.id;
        PERFORM set_config('ozonseat.audit_chain_write', 'off', true);
        RETURN removed;
    END;
    $$
    """,
    "REVOKE ALL ON FUNCTION audit_apply_retention(bigint, bigint) FROM PUBLIC",
]
POSTGRESQL_REMOVE = [
    "DROP FUNCTION IF EXISTS audit_apply_retention(bigint, bigint)",
    "DROP FUNCTION IF EXISTS audit_advance_chain(text, bigint, text)",
    "DROP FUNCTION IF EXISTS audit_lock_chain(text, bigint)",
    "DROP TRIGGER IF EXISTS audit_chain_guarded ON audit_auditchain",
    "DROP TRIGGER IF EXISTS audit_chain_no_truncate ON audit_auditchain",
    "DROP FUNCTION IF EXISTS audit_guard_chain()",
    # Back to 0003's trigger function (the switch alone opens removal).
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
    "DROP FUNCTION IF EXISTS audit_may_bypass(oid)",
]


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRESQL_INSTALL:
            schema_editor.execute(statement, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRESQL_REMOVE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only_triggers")]

    operations = [migrations.RunPython(install, remove)]
