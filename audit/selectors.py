"""Reading the audit log: one seller's events, filtered, newest first, in keyset pages (describe.py says
what each event means to its reader)."""

import base64
import binascii
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from ozonseat.errors import InvalidInput

from .models import AuditEvent

PAGE_SIZE = 50
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class EventReach:
    """A part of one seller's log, for a reader who holds audit.view at a market or chosen stores: the
    events filed under these stores, and those about these members (`member_ids`: ids, or a subquery of
    membership ids, which the roles app computes — audit knows no one)."""

    store_ids: tuple = ()
    member_ids: object = ()


@dataclass(frozen=True)
class EventFilters:
    actor_id: int | None = None
    action: str = ""
    target_type: str = ""
    target_id: int | None = None
    store_id: int | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    # Not a filter the reader chose: where they may read (None: the whole seller's log).
    reach: EventReach | None = None

    @classmethod
    def coerce(cls, value) -> "EventFilters":
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        names = {field.name for field in fields(cls)}
        return cls(
            **{key: item for key, item in dict(value).items() if key in names and item not in ("", None)}
        )

    @classmethod
    def for_days(cls, *, since: date | None, until: date | None, tzinfo, **others) -> "EventFilters":
        """Whole days in the seller's time zone: `until` includes its day."""
        start = datetime.combine(since, time.min, tzinfo) if since else None
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo) if until else None
        return cls(since=start, until=end, **others)

    def as_dict(self) -> dict:
        """JSON-safe, for the audit.exported event."""
        return {
            key: (value.isoformat() if isinstance(value, datetime) else value)
            for key, value in asdict(self).items()
            if key != "reach" and value not in (None, "")
        }


@dataclass
class EventPage:
    events: list[AuditEvent]
    next_cursor: str | None  # the older events
    previous_cursor: str | None = None  # the newer events; None on the first page


NEWER = "newer"


def encode_cursor(event: AuditEvent, *, newer: bool = False) -> str:
    """A page boundary at the event: the events older than it, or with `newer` those newer than it."""
    raw = f"{event.created_at.isoformat()}|{event.pk}" + (f"|{NEWER}" if newer else "")
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int, bool]:
    """(created_at, id, newer) of an encode_cursor value; InvalidInput if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, pk, *direction = raw.split("|")
        if direction not in ([], [NEWER]):
            raise ValueError(direction)
        created_at = parse_datetime(moment)
        if created_at is None or created_at.tzinfo is None:
            raise ValueError(moment)
        return created_at, int(pk), bool(direction)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput(field="cursor", message=_("This page link is not valid.")) from None


def _filtered(seller, filters: EventFilters):
    queryset = AuditEvent.objects.filter(seller_id=seller.pk)
    if filters.actor_id is not None:
        queryset = queryset.filter(actor_user_id=filters.actor_id)
    if filters.action:
        queryset = queryset.filter(action=filters.action)
    if filters.target_type:
        queryset = queryset.filter(target_type=filters.target_type)
    if filters.target_id is not None:
        queryset = queryset.filter(target_id=filters.target_id)
    if filters.store_id is not None:
        queryset = queryset.filter(store_id=filters.store_id)
    if filters.reach is not None:
        queryset = queryset.filter(
            Q(store_id__in=list(filters.reach.store_ids))
            | Q(target_type="membership", target_id__in=filters.reach.member_ids)
        )
    if filters.since is not None:
        queryset = queryset.filter(created_at__gte=filters.since)
    if filters.until is not None:
        queryset = queryset.filter(created_at__lt=filters.until)
    return queryset.order_by("-created_at", "-id")


def _beyond(queryset, position: tuple[datetime, int] | None, *, newer: bool):
    """The newest-first queryset cut at position: the older events newest first, or the newer events
    oldest first."""
    if newer:
        queryset = queryset.reverse()
    if position is None:
        return queryset
    created_at, pk = position
    # The redundant created_at bound lets the index range scan start at the cursor, so page 20,000 costs
    # what page 1 does (an OR alone would be a filter applied while scanning from the newest event).
    if newer:
        return queryset.filter(created_at__gte=created_at).filter(
            Q(created_at__gt=created_at) | Q(created_at=created_at, id__gt=pk)
        )
    return queryset.filter(created_at__lte=created_at).filter(
        Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk)
    )


def list_events(seller, filters=None, cursor: str | None = None, *, page_size: int = PAGE_SIZE) -> EventPage:
    """One page of the seller's events, newest first: the first page, or the page a next_cursor or
    previous_cursor of another page points to. One query."""
    filters = EventFilters.coerce(filters)
    position, newer = None, False
    if cursor:
        created_at, pk, newer = decode_cursor(cursor)
        position = (created_at, pk)
    rows = list(_beyond(_filtered(seller, filters), position, newer=newer)[: page_size + 1])
    more = len(rows) > page_size
    events = rows[:page_size]
    if newer:
        events.reverse()
    # Coming from a page, there is one back the other way.
    has_older = more or newer
    has_newer = more if newer else position is not None
    return EventPage(
        events,
        next_cursor=encode_cursor(events[-1]) if events and has_older else None,
        previous_cursor=encode_cursor(events[0], newer=True) if events and has_newer else None,
    )


def iter_event_batches(
    seller, filters=None, *, batch_size: int | None = None, oldest_first: bool = False
) -> Iterator[list[AuditEvent]]:
    """Every filtered event, newest first (or oldest first), in keyset batches: memory stays flat and no
    database cursor is held open while a slow client downloads."""
    batch_size = batch_size or EXPORT_BATCH
    queryset = _filtered(seller, EventFilters.coerce(filters))
    position = None
    while True:
        rows = list(_beyond(queryset, position, newer=oldest_first)[: batch_size + 1])
        batch = rows[:batch_size]
        if batch:
            yield batch
        if len(rows) <= batch_size:
            return
        position = (batch[-1].created_at, batch[-1].pk)


def recent_events(seller, *, limit: int, membership_id: int | None = None, user_id: int | None = None):
    """The seller's newest events; with a membership (and its user), those about it or its person (a
    failed sign-in to their account) or done by them. One query."""
    queryset = AuditEvent.objects.filter(seller_id=seller.pk)
    if membership_id is not None:
        queryset = queryset.filter(
            Q(target_type="membership", target_id=membership_id)
            | Q(target_type="user", target_id=user_id)
            | Q(actor_user_id=user_id)
        )
    return list(queryset.order_by("-created_at", "-id")[:limit])


def has_stores(seller) -> bool:
    """Whether the seller has stores (the store filter is offered then), once the roles app has them."""
    try:
        store_model = apps.get_model("roles", "Store")
    except LookupError:
        return False
    return store_model.objects.filter(seller=seller).exists()


def store_labels(seller, ids) -> list[tuple[int, str]]:
    """(store id, name) of the chosen stores of the seller, active or not, for the store filter."""
    try:
        store_model = apps.get_model("roles", "Store")
    except LookupError:
        return []
    return list(
        store_model.objects.filter(seller=seller, pk__in=list(ids)[:500])
        .order_by("name", "pk")
        .values_list("pk", "name")
    )


def is_store_of_seller(seller, store_id) -> bool:
    """Whether the id is one of the seller's stores, active or not (a deactivated store's events stay
    findable): the stores the store filter accepts. One query."""
    try:
        store_model = apps.get_model("roles", "Store")
    except LookupError:
        return False
    return store_model.objects.filter(seller=seller, pk=store_id).exists()
