"""The hash chain: canonical serialization of an event and the hash that links it to the one before."""

import hashlib
import json
from datetime import UTC, datetime

GENESIS_HASH = "0" * 64
# Every stored field but the row id and the hash itself. Personal data never appears here: people are ids.
CHAINED_FIELDS = (
    "seller_id",
    "sequence",
    "actor_user_id",
    "actor_token_id",
    "action",
    "target_type",
    "target_id",
    "store_id",
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


def format_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_serialization(event) -> bytes:
    """The exact bytes the chain hashes. created_at is rendered in UTC with microseconds, so the same
    event serialises identically whichever database stored it."""
    data = {name: getattr(event, name) for name in CHAINED_FIELDS}
    data["created_at"] = format_timestamp(event.created_at)
    # Round-trip the changes through JSON so the hash sees what the database will return.
    data["changes"] = json.loads(canonical_json(event.changes or {}))
    return canonical_json(data).encode("utf-8")


def compute_hash(event) -> str:
    return hashlib.sha256(canonical_serialization(event)).hexdigest()


def chain_key(seller_id: int | None) -> str:
    return f"seller:{seller_id}" if seller_id is not None else "global"
