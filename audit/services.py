"""Writing the audit log. `record_event` is called by every service inside its own transaction."""

import json

from django.core.cache import cache
from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ozonseat.errors import InvalidInput

from . import events, vocabulary
from .chain import (  # noqa: F401  (re-exported: the chain's vocabulary used to live here)
    CHAINED_FIELDS,
    GENESIS_HASH,
    canonical_json,
    canonical_serialization,
    chain_key,
    compute_hash,
    compute_stored_hash,
)
from .context import get_context
from .events import get_event_type
from .models import AuditChain, AuditEvent, AuditPolicy
from .selectors import EventFilters

AUDIT_VIEW = "audit.view"
SECURITY_MANAGE = "security.manage"
EXPORT_FORMATS = ("csv", "jsonl")


def lock_chain(seller_id: int | None) -> AuditChain:
    """The chain head, created if missing and locked until the transaction ends. On PostgreSQL through
    audit_lock_chain (migration 0004), the only door to the head that the application role has."""
    key = chain_key(seller_id)
    connection = connections[AuditChain.objects.db]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_HEAD_SQL, [key, seller_id])
            row = cursor.fetchone()
        return AuditChain.from_db(connection.alias, _HEAD_FIELDS, row)
    chain = AuditChain.objects.select_for_update().filter(key=key).first()
    if chain is None:
        # A concurrent first append may create the row first: get_or_create then reads it.
        AuditChain.objects.get_or_create(key=key, defaults={"seller_id": seller_id})
        chain = AuditChain.objects.select_for_update().get(key=key)
    return chain


_HEAD_FIELDS = [
    "id",
    "key",
    "seller_id",
    "last_sequence",
    "last_hash",
    "checkpoint_sequence",
    "checkpoint_hash",
]
_LOCK_HEAD_SQL = (
    "SELECT id, key, seller_id, last_sequence, last_hash, checkpoint_sequence, checkpoint_hash "
    "FROM audit_lock_chain(%s, %s)"
)


def advance_chain(chain: AuditChain, event: AuditEvent) -> None:
    """Move the head to `event`, just appended. On PostgreSQL through audit_advance_chain, which refuses
    anything but the next event linking to the head."""
    connection = connections[AuditChain.objects.db]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT audit_advance_chain(%s, %s, %s)", [chain.key, event.sequence, event.hash])
    chain.last_sequence = event.sequence
    chain.last_hash = event.hash
    if connection.vendor != "postgresql":
        chain.save(update_fields=["last_sequence", "last_hash"])


def _id(value):
    return getattr(value, "pk", value)


def diff(old: dict, new: dict) -> dict:
    """{field: [old, new]} for the fields whose value changed."""
    return {name: [old.get(name), new[name]] for name in new if old.get(name) != new[name]}


def _store_of(target, changes: dict | None) -> int | None:
    if target is not None:
        if target._meta.model_name == "store":
            return target.pk
        if getattr(target, "store_id", None) is not None:
            return target.store_id
    # A change that moves something between stores is filed under the store it moved to (else from).
    values = (changes or {}).get("store_id")
    if isinstance(values, list | tuple) and len(values) == 2:
        return values[1] if values[1] is not None else values[0]
    return None


# audit knows no one: the app that owns people (accounts) tells it, in its AppConfig.ready, how to check
# that an actor holds a seller permission and how to clean an e-mail address (`provide_people`).
_provided: dict = {}


def provide_people(*, require_seller_permission, clean_email) -> None:
    _provided.update(require_seller_permission=require_seller_permission, clean_email=clean_email)


def _people(name):
    try:
        return _provided[name]
    except KeyError:
        raise RuntimeError("audit needs the accounts app (its AppConfig.ready provides people).") from None


def record_event(
    *,
    action: str,
    seller=None,
    actor=None,
    target=None,
    target_type: str = "",
    target_id=None,
    store=None,
    changes: dict | None = None,
    actor_token_id: int | None = None,
) -> AuditEvent:
    """Append one event to the seller's chain. Must run inside the transaction of the change it records.

    store: the store the event concerns (a Store or its id) when the target is not itself a store or one
    of its warehouses; it is what the viewer's store filter finds."""
    get_event_type(action)  # unknown actions fail loudly, in tests first
    unknown = vocabulary.unknown_fields(action, changes or {})
    if unknown:  # and so do change fields and kinds of target no one can describe
        raise KeyError(f"Audit change fields {unknown} of {action!r}: register them in audit_vocabulary.py")
    if target is not None:
        target_type = target_type or target._meta.model_name
        target_id = target.pk
    if target_type and vocabulary.get_kind(target_type) is None:
        raise KeyError(f"Audit target kind {target_type!r}: register it in audit_vocabulary.py")
    store_id = _id(store) if store is not None else _store_of(target, changes)
    context = get_context()
    seller_id = _id(seller)
    changes_text = canonical_json(changes or {})
    # No savepoint: if the append fails, the caller's whole transaction must roll back with it, so a change
    # can never commit without its event.
    with transaction.atomic(savepoint=False):
        chain = lock_chain(seller_id)
        event = AuditEvent(
            seller_id=seller_id,
            sequence=chain.last_sequence + 1,
            actor_user_id=_id(actor),
            actor_token_id=actor_token_id if actor_token_id is not None else context.token_id,
            action=action,
            target_type=target_type,
            target_id=_id(target_id),
            store_id=store_id,
            changes=json.loads(changes_text),
            # The request's address and device stay out of the chain (erasable, see the model).
            client_ip=context.ip,
            client_agent=context.user_agent or None,
            request_id=context.request_id,
            # Taken under the chain lock, so time order and chain order agree within a seller.
            created_at=timezone.now(),
            previous_hash=chain.last_hash,
        )
        # The changes were just round-tripped through JSON: hashed as stored, without a second round trip.
        event.hash = compute_stored_hash(event)
        _append(chain, event, changes_text)
    return event


_APPEND_COLUMNS = (
    *CHAINED_FIELDS,
    "hash",
    "client_ip",
    "client_agent",
)
# The event and the head's move in one round trip: two statements, the second seeing the first's row.
_APPEND_SQL = (
    f"INSERT INTO audit_auditevent ({', '.join(_APPEND_COLUMNS)}) "  # noqa: S608 (column names are constants)
    f"VALUES ({', '.join(['%s'] * len(_APPEND_COLUMNS))}); "
    "SELECT (SELECT id FROM audit_auditevent WHERE hash = %s), audit_advance_chain(%s, %s, %s)"
)


def _append(chain: AuditChain, event: AuditEvent, changes_text: str) -> None:
    """Insert `event` and move the chain head to it (see advance_chain)."""
    connection = connections[AuditEvent.objects.db]
    if connection.vendor != "postgresql":
        event.save(force_insert=True)
        advance_chain(chain, event)
        return
    values = [changes_text if name == "changes" else getattr(event, name) for name in _APPEND_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_SQL, [*values, event.hash, chain.key, event.sequence, event.hash])
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias
    chain.last_sequence = event.sequence
    chain.last_hash = event.hash


# --- permission denials ---------------------------------------------------------------------------

DENIAL_WINDOW_SECONDS = 600
DENIALS_PER_WINDOW = 20


def _denial_allowed(who: str, path: str, status: int) -> bool:
    """At most one event per (who, path, status) and DENIALS_PER_WINDOW events per `who` in the window,
    so a scanner walking thousands of URLs leaves a handful of events, not thousands."""
    if not cache.add(f"audit:denied:{who}:{status}:{path}", 1, DENIAL_WINDOW_SECONDS):
        return False
    budget_key = f"audit:denied-budget:{who}"
    if cache.add(budget_key, 1, DENIAL_WINDOW_SECONDS):
        return True
    try:
        return cache.incr(budget_key) <= DENIALS_PER_WINDOW
    except ValueError:  # the budget key expired between add and incr
        return cache.add(budget_key, 1, DENIAL_WINDOW_SECONDS)


def record_denial(request, *, seller=None, status: int, permission: str = "") -> AuditEvent | None:
    """Record a refused request (403 from a missing permission, 404 for a seller the user is not in).

    A 403 lands in the seller's log. A 404 lands in the global log with the seller id it asked for: the
    seller's own members do not learn who probed it, and nobody learns whether that seller exists."""
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    who = f"user:{user_id}" if user_id else f"ip:{get_context().ip or request.META.get('REMOTE_ADDR', '')}"
    path = request.path[:300]
    if not _denial_allowed(who, path, status):
        return None
    changes = {"path": [None, path], "status": [None, status]}
    if permission:
        changes["permission"] = [None, permission]
    seller_id = _id(seller)
    if status == 404 and seller_id is not None:
        changes["requested_seller_id"] = [None, seller_id]
        seller_id = None
    with transaction.atomic():
        return record_event(
            action=events.ACCESS_DENIED,
            seller=seller_id,
            actor=user_id,
            target_type="user" if user_id else "",
            target_id=user_id,
            changes=changes,
        )


# --- retention setting ----------------------------------------------------------------------------

MAX_RETENTION_DAYS = 365 * 20


def set_retention(*, actor, seller, retention_days: int | None) -> AuditPolicy:
    """Set how long the seller keeps audit events (None: forever). Archiving is `audit_archive`'s job."""
    _people("require_seller_permission")(actor=actor, seller=seller, permission=SECURITY_MANAGE)
    if retention_days is not None and not 30 <= int(retention_days) <= MAX_RETENTION_DAYS:
        raise InvalidInput(field="retention_days", message=_("Between 30 days and 20 years, or empty."))
    with transaction.atomic():
        policy, _created = AuditPolicy.objects.select_for_update().get_or_create(seller_id=seller.pk)
        if policy.retention_days == retention_days:
            return policy
        old = policy.retention_days
        policy.retention_days = retention_days
        policy.save(update_fields=["retention_days"])
        record_event(
            action=events.RETENTION_CHANGED,
            seller=seller,
            actor=actor,
            target=seller,
            changes={"retention_days": [old, retention_days]},
        )
    return policy


MAX_DIGEST_RECIPIENTS = 5


def set_digest_recipients(*, actor, seller, addresses: list[str]) -> AuditPolicy:
    """Who, besides the owner, receives the daily digest of the seller's audit chain (audit/digests.py).
    The event records how many addresses, not the addresses: the log names people by id only."""
    _people("require_seller_permission")(actor=actor, seller=seller, permission=SECURITY_MANAGE)
    cleaned = []
    for address in addresses:
        if address.strip():
            email = _people("clean_email")(address, field="digest_recipients")
            if email not in cleaned:
                cleaned.append(email)
    if len(cleaned) > MAX_DIGEST_RECIPIENTS:
        raise InvalidInput(
            field="digest_recipients",
            message=_("At most %(count)d addresses.") % {"count": MAX_DIGEST_RECIPIENTS},
        )
    with transaction.atomic():
        policy, _created = AuditPolicy.objects.select_for_update().get_or_create(seller_id=seller.pk)
        old = list(policy.digest_recipients or [])
        if old == cleaned:
            return policy
        policy.digest_recipients = cleaned
        policy.save(update_fields=["digest_recipients"])
        record_event(
            action=events.DIGEST_RECIPIENTS_CHANGED,
            seller=seller,
            actor=actor,
            target=seller,
            changes={"digest_recipient_count": [len(old), len(cleaned)]},
        )
    return policy


def record_export(*, actor, seller, export_format: str, filters: EventFilters, token=None) -> AuditEvent:
    """Record that `actor` is exporting the seller's audit log: the one `audit.exported` event of the
    dashboard's export and the API's, with the format and the filters (as `EventFilters.as_dict()`).
    `token`: the API token the export was asked with, if any (the event's actor token)."""
    _people("require_seller_permission")(actor=actor, seller=seller, permission=AUDIT_VIEW)
    if export_format not in EXPORT_FORMATS:
        raise InvalidInput(field="format", message=_("Choose CSV or JSON Lines."))
    with transaction.atomic():
        return record_event(
            action=events.EXPORTED,
            seller=seller,
            actor=actor,
            target=seller,
            changes={"format": [None, export_format], "filters": [None, filters.as_dict()]},
            actor_token_id=_id(token) if token is not None else None,
        )
