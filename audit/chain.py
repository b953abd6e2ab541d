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


# One encoder, built once: json.dumps with these options builds a new JSONEncoder on every call. The bytes
# are exactly those of json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
# default=_json_default), which every existing chain was hashed with.
_encode = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
).encode
# The chained fields in the order sort_keys puts them: the record is built already sorted.
_SORTED_FIELDS = tuple(sorted(CHAINED_FIELDS))


def canonical_json(value) -> str:
    return _encode(value)


def format_timestamp(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    if value.year < 1000:  # strftime does not pad such years; keep its bytes
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.isoformat(timespec="microseconds")[:-6] + "Z"  # without its "+00:00"


def canonical_serialization(event) -> bytes:
    """The exact bytes the chain hashes. created_at is rendered in UTC with microseconds, so the same
    event serialises identically whichever database stored it."""
    # Round-trip the changes through JSON so the hash sees what the database will return.
    return _serialize(event, json.loads(_encode(event.changes or {})))


def stored_serialization(event) -> bytes:
    """canonical_serialization for an event whose changes are already what the database returns (read
    from it, or round-tripped as record_event does): plain JSON values with string keys, for which the
    round trip changes nothing. Saves a dumps and a loads per event in audit_verify and on every append."""
    return _serialize(event, event.changes or {})


def _serialize(event, changes) -> bytes:
    data = {}
    for name in _SORTED_FIELDS:
        data[name] = getattr(event, name)
    data["changes"] = changes
    data["created_at"] = format_timestamp(event.created_at)
    return _encode(data).encode("utf-8")


def compute_hash(event) -> str:
    return hashlib.sha256(canonical_serialization(event)).hexdigest()


def compute_stored_hash(event) -> str:
    """compute_hash for an event whose changes are plain JSON as stored (see stored_serialization)."""
    return hashlib.sha256(stored_serialization(event)).hexdigest()


def chain_key(seller_id: int | None) -> str:
    return f"seller:{seller_id}" if seller_id is not None else "global"
