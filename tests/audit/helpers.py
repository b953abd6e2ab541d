"""Shared by the audit tests: appending events and poking the table below Django, as an attacker would."""

from django.db import connection, transaction

from audit import events
from audit.models import AuditEvent
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


def chain_events(seller):
    return list(AuditEvent.objects.filter(seller_id=seller.pk).order_by("sequence"))
