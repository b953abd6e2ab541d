import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from audit.immutability import removal_switch
from audit.models import AuditEvent
from tests.audit.helpers import append

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def event(seller, owner):
    return append(seller, actor=owner)[0]


def test_a_saved_event_refuses_save_and_delete(event):
    event.ip = "10.0.0.1"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).ip is None


def test_the_queryset_refuses_update_delete_and_bulk_update(event):
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(action="auth.login")
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.bulk_update([event], ["action"])
    assert AuditEvent.objects.filter(pk=event.pk, action=event.action).exists()


def _refused(sql, params=()):
    # The atomic block (its rollback) sits inside pytest.raises, so the test's transaction stays usable.
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


@pytest.mark.postgres
def test_postgresql_rejects_raw_update_delete_and_truncate(event):
    _refused("UPDATE audit_auditevent SET action = 'auth.login' WHERE id = %s", [event.pk])
    _refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    _refused("TRUNCATE audit_auditevent")
    _refused("TRUNCATE audit_auditevent CASCADE")
    assert AuditEvent.objects.filter(pk=event.pk, action=event.action).count() == 1


@pytest.mark.postgres
def test_postgresql_refuses_update_even_with_the_removal_switch_on(event):
    _refused("SET ozonseat.audit_retention = 'on'; UPDATE audit_auditevent SET ip = '10.0.0.1'")


@pytest.mark.postgres
def test_postgresql_removal_switch_allows_delete_only_inside_its_transaction(seller, owner):
    first, second = append(seller, 2, actor=owner)
    with transaction.atomic(), removal_switch(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [first.pk])
    assert not AuditEvent.objects.filter(pk=first.pk).exists()
    # The switch was transaction-local: the next delete is refused again.
    _refused("DELETE FROM audit_auditevent WHERE id = %s", [second.pk])
    with (
        transaction.atomic(),
        removal_switch(),
        connection.cursor() as cursor,
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
    ):
        cursor.execute("UPDATE audit_auditevent SET ip = '10.0.0.1' WHERE id = %s", [second.pk])


def test_sqlite_triggers_from_the_migration_reject_update_and_delete(tmp_path):
    """Migrate a fresh SQLite database (the embedded default), then attack it with sqlite3."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(OZONSEAT_VAR_DIR=str(tmp_path), DEBUG="1", DJANGO_SETTINGS_MODULE="ozonseat.settings")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=400,
    )
    database = sqlite3.connect(tmp_path / "ozonseat.sqlite3", isolation_level=None)
    database.execute(
        "INSERT INTO audit_auditevent (seller_id, sequence, action, target_type, changes, user_agent, "
        "request_id, created_at, previous_hash, hash) "
        "VALUES (1, 1, 'seller.created', 'seller', '{}', '', '', '2026-01-01 00:00:00', ?, ?)",
        ["0" * 64, "a" * 64],
    )
    with pytest.raises(sqlite3.DatabaseError, match="append-only: UPDATE"):
        database.execute("UPDATE audit_auditevent SET action = 'auth.login'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only: DELETE"):
        database.execute("DELETE FROM audit_auditevent")
    assert database.execute("SELECT action FROM audit_auditevent").fetchall() == [("seller.created",)]
    # The retention switch: a row in the guard table, inside the transaction that removes.
    database.execute("BEGIN")
    database.execute("INSERT INTO audit_removal_switch (id) VALUES (1)")
    database.execute("DELETE FROM audit_auditevent")
    database.execute("DELETE FROM audit_removal_switch")
    database.execute("COMMIT")
    assert database.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (0,)
