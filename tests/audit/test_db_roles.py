"""Least privilege in PostgreSQL, proved with the roles `manage.py db_roles` creates: connected as the
documented application role, every way to remove, rewrite or rewind the audit log is refused, while the
application's own actions still work as that role. Role names are namespaced by the test database, so
parallel runs (each with its own database) never touch each other's roles."""

import io
from contextlib import contextmanager
from datetime import timedelta

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit import events
from audit.models import AuditChain, AuditEvent
from audit.services import set_retention
from audit.verification import verify_chain
from tests.audit.helpers import append
from tests.factories import make_seller

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def roles():
    prefix = connection.settings_dict["NAME"][:40]
    names = {kind: f"{prefix}_{kind}" for kind in ("owner", "app", "retention")}
    out = io.StringIO()
    call_command("db_roles", stdout=out, **names)
    yield names, out.getvalue()
    connection.close()
    with connection.cursor() as cursor:
        (me,) = cursor.execute("SELECT current_user") or cursor.fetchone()
        for role in names.values():
            cursor.execute(f'REASSIGN OWNED BY "{role}" TO "{me}"')
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


def connect_as(role):
    settings = connection.settings_dict
    return psycopg2.connect(
        dbname=settings["NAME"],
        user=role,
        password="unused-on-a-trusting-test-server",
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
    )


@contextmanager
def django_connected_as(role):
    """The application itself (Django's default connection) as `role`, for the length of the block."""
    connection.close()
    saved = connection.settings_dict["USER"]
    connection.settings_dict["USER"] = role
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["USER"] = saved


def refused(database, sql, params=(), match=""):
    with database.cursor() as cursor:
        try:
            cursor.execute(sql, params)
        except psycopg2.Error as error:
            database.rollback()
            assert match in str(error), str(error)
            return str(error)
    database.rollback()
    raise AssertionError(f"{sql!r} was not refused")


@pytest.fixture
def chain():
    seller, owner = make_seller()
    made = append(seller, 3, actor=owner.user)
    return seller, owner, made


def test_the_command_is_idempotent_and_says_what_it_did(roles):
    names, first = roles
    assert f"app role {names['app']}: created" in first
    assert "SELECT, INSERT only" in first and first.rstrip().endswith("done")
    again = io.StringIO()
    call_command("db_roles", stdout=again, **names)
    assert f"app role {names['app']}: exists" in again.getvalue()
    assert "created" not in again.getvalue()
    assert f"everything already belongs to {names['owner']}" in again.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_auditevent'")
        assert cursor.fetchone() == (names["owner"],)


def test_the_application_role_cannot_remove_rewrite_or_rewind_the_log(roles, chain):
    names, _out = roles
    seller, _owner, made = chain
    app = connect_as(names["app"])
    try:
        target = made[1].pk
        refused(app, "DELETE FROM audit_auditevent WHERE id = %s", [target], "permission denied")
        refused(app, "TRUNCATE audit_auditevent", (), "permission denied")
        refused(
            app, "UPDATE audit_auditevent SET ip = '10.6.6.6' WHERE id = %s", [target], "permission denied"
        )
        refused(
            app,
            "SELECT set_config('ozonseat.audit_retention', 'on', true); "
            "DELETE FROM audit_auditevent WHERE id = %s",
            [target],
            "permission denied",
        )
        refused(
            app,
            "UPDATE audit_auditchain SET last_sequence = 2, last_hash = %s WHERE seller_id = %s",
            [made[1].hash, seller.pk],
            "permission denied",
        )
        # The erasable client details can only be cleared, and nothing else changed with them.
        refused(
            app, "UPDATE audit_auditevent SET client_ip = '10.6.6.6' WHERE id = %s", [target], "append-only"
        )
        refused(
            app,
            "UPDATE audit_auditevent SET client_ip = NULL, client_agent = NULL, ip = NULL WHERE id = %s",
            [target],
            "permission denied",
        )
        refused(app, "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only", (), "owner")
        refused(app, "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", (), "owner")
        refused(app, "DROP TRIGGER audit_event_append_only ON audit_auditevent", (), "owner")
        refused(app, "DROP TRIGGER audit_chain_guarded ON audit_auditchain", (), "owner")
        refused(app, "ALTER TABLE audit_auditchain OWNER TO CURRENT_USER", (), "owner")
        # Rewinding through the function the app role does have: it only ever moves one step forward.
        refused(
            app,
            "SELECT audit_advance_chain(%s, 2, %s)",
            [f"seller:{seller.pk}", made[1].hash],
            "does not extend the head",
        )
        refused(app, "SELECT audit_apply_retention(%s, 2)", [seller.pk], "permission denied")
        refused(
            app,
            "CREATE FUNCTION audit_may_bypass(integer) RETURNS boolean LANGUAGE sql AS 'SELECT true'",
            (),
            "permission denied",
        )
    finally:
        app.close()
    assert list(
        AuditEvent.objects.filter(seller_id=seller.pk).values_list("pk", flat=True).order_by("pk")
    ) == [event.pk for event in made]
    assert verify_chain(seller.pk).ok


def test_a_broad_grant_does_not_reopen_the_triggers(roles, chain):
    names, _out = roles
    seller, _owner, made = chain
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT ALL ON audit_auditevent, audit_auditchain TO "{names["app"]}"')
    app = connect_as(names["app"])
    try:
        refused(app, "DELETE FROM audit_auditevent WHERE id = %s", [made[0].pk], "append-only")
        refused(
            app,
            "SELECT set_config('ozonseat.audit_retention', 'on', true); DELETE FROM audit_auditevent",
            (),
            "append-only",
        )
        refused(
            app,
            "SELECT set_config('ozonseat.audit_retention', 'on', true); TRUNCATE audit_auditevent CASCADE",
            (),
            "append-only",
        )
        refused(app, "UPDATE audit_auditevent SET ip = '10.6.6.6'", (), "append-only")
        refused(
            app,
            "SELECT set_config('ozonseat.audit_chain_write', 'on', true); "
            "UPDATE audit_auditchain SET last_sequence = 2, last_hash = %s WHERE seller_id = %s",
            [made[1].hash, seller.pk],
            "chain heads move only through audit_advance_chain",
        )
        refused(
            app,
            "SELECT set_config('ozonseat.audit_retention', 'on', true); DELETE FROM audit_auditchain",
            (),
            "chain heads",
        )
    finally:
        app.close()
    assert AuditEvent.objects.filter(seller_id=seller.pk).count() == 3
    assert verify_chain(seller.pk).ok


def test_the_application_still_works_as_its_role(roles, chain):
    names, _out = roles
    seller, owner, made = chain
    with django_connected_as(names["app"]):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (names["app"],)
        set_retention(actor=owner.user, seller=seller, retention_days=400)  # a service: change + record_event
        second, _other = make_seller("Second shop")  # plain inserts and updates across the app's tables
        append(second, 2)  # a first append creates the chain head, through audit_lock_chain
        assert verify_chain(seller.pk).ok and verify_chain(second.pk).ok
    recorded = AuditEvent.objects.get(seller_id=seller.pk, action=events.RETENTION_CHANGED)
    assert recorded.sequence == made[-1].sequence + 1
    assert AuditChain.objects.get(seller_id=seller.pk).last_hash == recorded.hash
    assert AuditEvent.objects.filter(seller_id=second.pk).exists()


def test_retention_runs_as_the_retention_role_and_only_as_the_policy_allows(roles, tmp_path, monkeypatch):
    names, _out = roles
    seller, owner = make_seller()
    past = timezone.now() - timedelta(days=400)
    monkeypatch.setattr("audit.services.timezone.now", lambda: past)
    old = append(seller, 4, actor=owner.user)
    monkeypatch.undo()
    append(seller, 2, actor=owner.user)
    set_retention(actor=owner.user, seller=seller, retention_days=365)
    app = connect_as(names["app"])
    try:
        refused(
            app, "SELECT audit_apply_retention(%s, %s)", [seller.pk, old[-1].sequence], "permission denied"
        )
    finally:
        app.close()
    retention = connect_as(names["retention"])
    try:
        # Even the retention role removes nothing younger than the policy allows.
        newest = AuditEvent.objects.filter(seller_id=seller.pk).order_by("-sequence").first()
        refused(retention, "SELECT audit_apply_retention(%s, %s)", [seller.pk, newest.sequence], "may not be")
        refused(retention, "DELETE FROM audit_auditevent", (), "permission denied")
    finally:
        retention.close()
    with django_connected_as(names["retention"]):
        out = io.StringIO()
        call_command(
            "audit_archive", "--seller", seller.pk, "--output", str(tmp_path / "a.jsonl"), stdout=out
        )
        assert "archived and removed 4 events" in out.getvalue()
        assert verify_chain(seller.pk).ok
    chain = AuditChain.objects.get(seller_id=seller.pk)
    assert (chain.checkpoint_sequence, chain.checkpoint_hash) == (old[-1].sequence, old[-1].hash)
