"""The one deliberate way past the append-only triggers (audit/migrations/0003): a switch that lives only
inside the current transaction. Only retention (`audit_archive`) turns it on, and it records a checkpoint
and an audit.archived event in the same transaction."""

from contextlib import contextmanager

from django.db import connections

RETENTION_SETTING = "ozonseat.audit_retention"


@contextmanager
def removal_switch(using: str = "default"):
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("The removal switch only exists inside a transaction.")
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            # is_local=true: SET LOCAL, gone at commit or rollback.
            cursor.execute("SELECT set_config(%s, 'on', true)", [RETENTION_SETTING])
        elif vendor == "sqlite":
            cursor.execute("INSERT INTO audit_removal_switch (id) VALUES (1)")
        else:
            raise NotImplementedError(vendor)
    yield
    # Only on success: after an error the rollback undoes the switch anyway (and PostgreSQL would refuse
    # further statements in the aborted transaction).
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SELECT set_config(%s, 'off', true)", [RETENTION_SETTING])
        else:
            cursor.execute("DELETE FROM audit_removal_switch")
