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


# stored_serialization with the keys written out in sorted order, for audit_verify: it reads a row's values
# as PostgreSQL prints them and fills them in without building a dict or sorting keys per event.
_ROW_TEMPLATE = (
    '{"action":%s,"actor_token_id":%s,"actor_user_id":%s,"changes":%s,"created_at":"%s","ip":%s,'
    '"previous_hash":%s,"request_id":%s,"seller_id":%s,"sequence":%s,"store_id":%s,"target_id":%s,'
    '"target_type":%s,"user_agent":%s}'
)
_encode_string = json.encoder.encode_basestring  # what the encoder above uses for str (C, ensure_ascii off)
# The C encoder JSONEncoder.encode builds on every call, built once (without the circular-reference check:
# what the database returns cannot refer to itself). The same bytes as _encode for such values.
if json.encoder.c_make_encoder is not None:
    _encode_stored = json.encoder.c_make_encoder(
        None, _json_default, _encode_string, None, ":", ",", True, False, True
    )

    def _encode_changes(value) -> str:
        return "".join(_encode_stored(value, 0))

else:  # pragma: no cover - CPython always has the C encoder
    _encode_changes = _encode


def row_serialization(
    action: str,
    actor_token_id: str,
    actor_user_id: str,
    changes,
    created_at: str,
    ip: str | None,
    previous_hash: str,
    request_id: str,
    seller_id: str,
    sequence: str,
    store_id: str,
    target_id: str,
    target_type: str,
    user_agent: str,
) -> bytes:
    """stored_serialization of a row as read from the database: the integer columns already as their JSON
    text ("null" or the decimal digits), created_at as format_timestamp renders it, changes as the database
    returns them (plain JSON, string keys), the text columns as stored. The same bytes, in a fraction of
    the time (tests/audit/test_chain_bytes.py compares them)."""
    return (
        _ROW_TEMPLATE
        % (
            _encode_string(action),
            actor_token_id,
            actor_user_id,
            _encode_changes(changes),
            created_at,
            "null" if ip is None else _encode_string(ip),
            _encode_string(previous_hash),
            _encode_string(request_id),
            seller_id,
            sequence,
            store_id,
            target_id,
            _encode_string(target_type),
            _encode_string(user_agent),
        )
    ).encode("utf-8")


def compute_hash(event) -> str:
    return hashlib.sha256(canonical_serialization(event)).hexdigest()


def compute_stored_hash(event) -> str:
    """compute_hash for an event whose changes are plain JSON as stored (see stored_serialization)."""
    return hashlib.sha256(stored_serialization(event)).hexdigest()


def chain_key(seller_id: int | None) -> str:
    return f"seller:{seller_id}" if seller_id is not None else "global"
