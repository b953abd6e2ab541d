"""Writing the audit log. `record_event` is called by every service inside its own transaction."""

import hashlib
import json
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from .context import get_context
from .events import get_event_type
from .models import AuditChain, AuditEvent

GENESIS_HASH = "0" * 64
CHAINED_FIELDS = (
    "seller_id",
    "sequence",
    "actor_user_id",
    "actor_token_id",
    "action",
    "target_type",
    "target_id",
    "changes",
    "ip",
    "user_agent",
    "request_id",
    "created_at",
    "previous_hash",
)


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def canonical_serialization(event: AuditEvent) -> bytes:
    """The exact bytes the chain hashes. created_at is rendered in UTC with microseconds, so the same
    event serialises identically whichever database stored it."""
    data = {name: getattr(event, name) for name in CHAINED_FIELDS}
    data["created_at"] = event.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # Round-trip the changes through JSON so the hash sees what the database will return.
    data["changes"] = json.loads(canonical_json(event.changes or {}))
    return canonical_json(data).encode("utf-8")


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_serialization(event)).hexdigest()


def chain_key(seller_id: int | None) -> str:
    return f"seller:{seller_id}" if seller_id is not None else "global"


def _lock_chain(seller_id: int | None) -> AuditChain:
    key = chain_key(seller_id)
    chain = AuditChain.objects.select_for_update().filter(key=key).first()
    if chain is None:
        AuditChain.objects.get_or_create(key=key, defaults={"seller_id": seller_id})
        chain = AuditChain.objects.select_for_update().get(key=key)
    return chain


def _id(value):
    return getattr(value, "pk", value)


def diff(old: dict, new: dict) -> dict:
    """{field: [old, new]} for the fields whose value changed."""
    return {name: [old.get(name), new[name]] for name in new if old.get(name) != new[name]}


def record_event(
    *,
    action: str,
    seller=None,
    actor=None,
    target=None,
    target_type: str = "",
    target_id=None,
    changes: dict | None = None,
    actor_token_id: int | None = None,
) -> AuditEvent:
    """Append one event to the seller's chain. Must run inside the transaction of the change it records."""
    get_event_type(action)  # unknown actions fail loudly, in tests first
    if target is not None:
        target_type = target_type or target._meta.model_name
        target_id = target.pk
    context = get_context()
    seller_id = _id(seller)
    with transaction.atomic():
        chain = _lock_chain(seller_id)
        event = AuditEvent(
            seller_id=seller_id,
            sequence=chain.last_sequence + 1,
            actor_user_id=_id(actor),
            actor_token_id=actor_token_id if actor_token_id is not None else context.token_id,
            action=action,
            target_type=target_type,
            target_id=_id(target_id),
            changes=json.loads(canonical_json(changes or {})),
            ip=context.ip,
            user_agent=context.user_agent,
            request_id=context.request_id,
            created_at=timezone.now(),
            previous_hash=chain.last_hash,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        chain.last_sequence = event.sequence
        chain.last_hash = event.hash
        chain.save(update_fields=["last_sequence", "last_hash"])
    return event
