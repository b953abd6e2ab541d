"""Shared by the audit tests: appending events and poking the table below Django, as an attacker would."""

from django.db import connection, transaction

from audit import events
from audit.models import AuditChain, AuditEvent
from audit.services import record_event


def append(seller, count=1, *, actor=None, action=events.SELLER_UPDATED, **kwargs):
    made = []
    for index in range(count):
        with transaction.atomic():
            made.append(
                record_event(
                    action=action,
                    seller=seller,
                    actor=actor,
                    target=seller,
                    changes={"name": [f"old {index}", f"new {index}"]},
                    **kwargs,
                )
            )
    return made


def as_superuser_without_triggers(sql, params=()):
    """What a database superuser can do: switch the append-only trigger off, edit, switch it on again."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def rewrite_chain_head(seller_id, **fields):
    """What a database superuser (or the table's owner) can do to a chain head: on PostgreSQL the guard
    trigger of migration 0004 lets only them through, and only with the chain-write switch on."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('ozonseat.audit_chain_write', 'on', true)")
        AuditChain.objects.filter(seller_id=seller_id).update(**fields)


def chain_events(seller):
    return list(AuditEvent.objects.filter(seller_id=seller.pk).order_by("sequence"))
