"""Reading the audit log: one seller's events, filtered, newest first, in keyset pages, and each event
described in the viewer's language with names resolved in one batch per kind of thing."""

import base64
import binascii
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta
from string import Formatter

from django.apps import apps
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from ozonseat.errors import InvalidInput

from .events import get_event_type
from .models import AuditEvent

PAGE_SIZE = 50
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class EventFilters:
    actor_id: int | None = None
    action: str = ""
    target_type: str = ""
    target_id: int | None = None
    store_id: int | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

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
            if value not in (None, "")
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


def people_choices(seller) -> list[tuple[int, str]]:
    """(user id, name) of everyone who has been a member of the seller, for the person filter."""
    from accounts.models import Membership
    from accounts.selectors import member_name

    return list(
        Membership.objects.filter(seller=seller)
        .annotate(name=member_name())  # as this seller sees them
        .order_by("name", "pk")
        .values_list("user_id", "name")
    )


def is_person_of_seller(seller, user_id) -> bool:
    """Whether the user id is one of the seller's people, removed members too (their events stay
    findable): the people the person filter accepts, as people_choices offers them. One query."""
    from accounts.models import Membership

    return Membership.objects.filter(seller=seller, user_id=user_id).exists()


def store_choices(seller) -> list[tuple[int, str]]:
    """(store id, name) for the store filter, once the roles app has stores."""
    try:
        store_model = apps.get_model("roles", "Store")
    except LookupError:
        return []
    return list(store_model.objects.filter(seller=seller).order_by("name").values_list("pk", "name"))


def is_store_of_seller(seller, store_id) -> bool:
    """Whether the id is one of the seller's stores, active or not (a deactivated store's events stay
    findable): the stores the store filter accepts, as store_choices offers them. One query."""
    try:
        store_model = apps.get_model("roles", "Store")
    except LookupError:
        return False
    return store_model.objects.filter(seller=seller, pk=store_id).exists()


# --- names ----------------------------------------------------------------------------------------

# Target types shown by a `name` field of their model, when that app is installed.
NAMED_MODELS = {
    "seller": "accounts.Seller",
    "store": "roles.Store",
    "warehouse": "roles.Warehouse",
    "role": "roles.Role",
}


def _person(display_name: str, email: str) -> str:
    return display_name or email


def resolve_names(events) -> dict[tuple[str, int], str]:
    """{(kind, id): display name} for every person and target the events mention: one query per kind
    (users, memberships, and each named model that occurs), whatever the number of events."""
    from accounts.models import User
    from accounts.selectors import member_names

    wanted: dict[str, set[int]] = {}
    own: set[int] = set()  # users of events of no seller: they concern the person themselves
    for event in events:
        if event.seller_id is None:
            own |= {event.actor_user_id, event.target_id if event.target_type == "user" else None} - {None}
        if event.actor_user_id is not None:
            wanted.setdefault("user", set()).add(event.actor_user_id)
        if event.target_type and event.target_id is not None:
            wanted.setdefault(event.target_type, set()).add(event.target_id)
        if event.store_id is not None:
            wanted.setdefault("store", set()).add(event.store_id)
    names: dict[tuple[str, int], str] = {}
    # People as their seller sees them (a pending member by the name it typed, an outsider by no name).
    seller_ids = {event.seller_id for event in events if event.seller_id is not None}
    by_membership, by_user = member_names(
        seller_ids, membership_ids=wanted.get("membership", ()), user_ids=wanted.get("user", ())
    )
    names.update({("membership", pk): name for pk, name in by_membership.items()})
    names.update({("user", user_id): name for (_seller_id, user_id), name in by_user.items()})
    for pk, display_name, email in User.objects.filter(pk__in=own).values_list("pk", "display_name", "email"):
        names[("user", pk)] = _person(display_name, email)
    for kind, label in NAMED_MODELS.items():
        if not wanted.get(kind):
            continue
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        for pk, name in model.objects.filter(pk__in=wanted[kind]).values_list("pk", "name"):
            names[(kind, pk)] = name
    return names


class _Blank(dict):
    def __missing__(self, key):
        return ""


def _new_value(value):
    if isinstance(value, list) and len(value) == 2:
        value = value[1]
    if isinstance(value, dict):
        return ", ".join(f"{key}={item}" for key, item in sorted(value.items()))
    return "" if value is None else str(value)


def actor_name(event: AuditEvent, names: dict) -> str:
    if event.actor_user_id is not None:
        return names.get(("user", event.actor_user_id)) or _("user #%(id)s") % {"id": event.actor_user_id}
    if event.actor_token_id is not None:
        return _("API token #%(id)s") % {"id": event.actor_token_id}
    return _("OzonSeat")


def target_name(event: AuditEvent, names: dict) -> str:
    if not event.target_type or event.target_id is None:
        return _("an unknown address") if event.action == "auth.login_failed" else ""
    name = names.get((event.target_type, event.target_id))
    if name:
        return name
    if event.target_type in ("user", "membership"):
        return _("user #%(id)s") % {"id": event.target_id}
    return f"{event.target_type} #{event.target_id}"


def describe_event(event: AuditEvent, names: dict) -> str:
    """The event as a sentence in the active language, e.g. "Li Wei suspended Ivan Petrov"."""
    try:
        template = str(get_event_type(event.action).template)
    except KeyError:
        return event.action
    values = _Blank({key: _new_value(value) for key, value in (event.changes or {}).items()})
    values["actor"] = actor_name(event, names)
    values["target"] = target_name(event, names)
    try:
        return Formatter().vformat(template, (), values)
    except (ValueError, IndexError, AttributeError):  # a broken translation must not break the page
        return event.action


def action_label(event: AuditEvent) -> str:
    try:
        return str(get_event_type(event.action).label)
    except KeyError:
        return event.action
