"""What the things and the change fields that audit events mention are called, taught by the apps that own
them.

audit stands below every other app and imports none of them, yet a description names a store, reads a
membership status or a permission codename in the reader's language. So each app that records events
describes its own things in an `audit_vocabulary` module, which audit discovers at start-up (as the admin
discovers `admin` modules, see apps.py):

- `register_kind(kind, ...)`: how one kind of object (a person, a store, a role…) is named, for a batch of
  ids in one query. Only the owning app knows that a membership is named by its person or that a template
  role shows its name translated.
- `register_field(name, label, value, ...)`: what a change field is called and how its values read (a
  choice of labels, a reference to a kind, a moment, a count…), optionally only for some actions (`status`
  is an HTTP status in access.denied and a membership status elsewhere).

`record_event` refuses a change field that no vocabulary knows, so nothing reaches the log unlabelled."""

import itertools
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

Reference = tuple[str, int]
EMPTY = (None, "", [], {})


@dataclass(frozen=True)
class Kind:
    kind: str
    label: str  # what one such thing is called, e.g. "Store"
    gone: str  # how one that no longer exists reads, e.g. "a deleted store"
    # The names of those of `keys` that exist, in one query. Keys are ids, or for a kind named as each
    # seller sees it (`per_seller`: people) (seller id, id) pairs, the seller id None in events of no seller.
    load: Callable[[set], Mapping]
    per_seller: bool = False


_KINDS: dict[str, Kind] = {}


def register_kind(
    kind: str, *, label, gone, load: Callable[[set], Mapping], per_seller: bool = False
) -> None:
    _KINDS[kind] = Kind(kind, label, gone, load, per_seller)


def get_kind(kind: str) -> Kind | None:
    return _KINDS.get(kind)


def all_kinds() -> list[Kind]:
    return sorted(_KINDS.values(), key=lambda item: item.kind)


class Reader:
    """What a description is read with: the names of everything a batch of events mentions (loaded once),
    the time zone moments are shown in, and the seller whose event is being read (people are named as
    that seller sees them)."""

    def __init__(self, names: dict, tzinfo, seller_id: int | None = None):
        self._names = names
        self.tzinfo = tzinfo
        self.seller_id = seller_id

    @classmethod
    def load(cls, wanted: Iterable[tuple[int | None, str, int]], time_zone=None) -> "Reader":
        """`wanted`: (seller id of the event, kind, id) of everything the events mention."""
        keys: dict[str, set] = {}
        for seller_id, kind, pk in wanted:
            known = _KINDS.get(kind)
            if known is not None and pk is not None:
                keys.setdefault(kind, set()).add((seller_id, pk) if known.per_seller else pk)
        names = {}
        for kind, kind_keys in sorted(keys.items()):
            names.update({(kind, key): name for key, name in _KINDS[kind].load(kind_keys).items() if name})
        return cls(names, _tzinfo(time_zone))

    def of_seller(self, seller_id: int | None) -> "Reader":
        return Reader(self._names, self.tzinfo, seller_id)

    def _key(self, kind: str, pk):
        known = _KINDS.get(kind)
        pk = _as_id(pk)
        return (kind, (self.seller_id, pk) if known is not None and known.per_seller else pk)

    def exists(self, kind: str, pk) -> bool:
        return self._key(kind, pk) in self._names

    def name(self, kind: str, pk) -> str:
        name = self._names.get(self._key(kind, pk))
        if name:
            return name
        known = _KINDS.get(kind)
        return str(known.gone) if known else _("an unknown object")


def _tzinfo(time_zone):
    if time_zone is None or isinstance(time_zone, zoneinfo.ZoneInfo):
        return time_zone or zoneinfo.ZoneInfo("UTC")
    try:
        return zoneinfo.ZoneInfo(str(time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _as_id(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- how values read ------------------------------------------------------------------------------


class Value:
    """How the values of one field read. `references` names the objects a value mentions, so that a page
    loads their names at once; `text` renders one non-empty value."""

    def references(self, value) -> Iterable[Reference]:
        return ()

    def text(self, value, reader: Reader) -> str:
        return plain(value)

    def change(self, old, new, reader: Reader) -> tuple[str, str]:
        """(old, new) as text, "" for an empty side."""
        return self._side(old, reader), self._side(new, reader)

    def _side(self, value, reader: Reader) -> str:
        return "" if value in EMPTY else self.text(value, reader)


def plain(value) -> str:
    """Any JSON value as text, for a value of no known meaning: never a raw None, True or dict."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(plain(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(plain(item) for _key, item in sorted(value.items()))
    return str(value)


class Text(Value):
    """Words someone typed (a name, a job title) or a code shown as it is (a path, a Client-ID, a hash)."""


class Number(Value):
    pass


class Count(Value):
    """A number with its unit, e.g. ngettext_lazy("%(count)d day", "%(count)d days", "count"); `zero`:
    what 0 means when it is not a number of anything ("never")."""

    def __init__(self, message, *, zero=None):
        self.message = message
        self.zero = zero

    def text(self, value, reader):
        try:
            count = int(value)
        except (TypeError, ValueError):
            return plain(value)
        if count == 0 and self.zero is not None:
            return str(self.zero)
        return str(self.message % {"count": count})


class Minutes(Value):
    """A number of seconds, as the minutes a person waits (rounded up)."""

    def text(self, value, reader):
        try:
            minutes = max(1, -(-int(value) // 60))
        except (TypeError, ValueError):
            return plain(value)
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


class ItemCount(Value):
    """A list shown as how many items it holds."""

    def text(self, value, reader):
        return str(len(value)) if isinstance(value, list) else plain(value)


class Boolean(Value):
    """True or false, in words: yes / no unless the field has better ones (a description "filled in" or
    "empty": the event says that it changed, not what it says)."""

    def __init__(self, true=None, false=None):
        self.true = true if true is not None else gettext_lazy("yes")
        self.false = false if false is not None else gettext_lazy("no")

    def change(self, old, new, reader):
        return self._word(old), self._word(new)

    def _word(self, value) -> str:
        return "" if value is None else str(self.true if value else self.false)


class Redacted(Value):
    """Personal data: the event records only that it changed."""

    def change(self, old, new, reader):
        return "", _("changed")


class Choice(Value):
    """One of a fixed set of values, each with its translated label (`labels`: a mapping, or a callable
    returning one, read when shown so that lazy choices follow the reader's language)."""

    def __init__(self, labels: Mapping | Callable[[], Mapping]):
        self._labels = labels

    def labels(self) -> Mapping:
        return self._labels() if callable(self._labels) else self._labels

    def text(self, value, reader):
        label = self.labels().get(value)
        return plain(value) if label is None else str(label)


class ListOf(Value):
    """A list of values of one kind. A change between two lists reads as what was added and removed."""

    def __init__(self, item: Value):
        self.item = item

    def references(self, value):
        for item in value if isinstance(value, list) else [value]:
            if item not in EMPTY:
                yield from self.item.references(item)

    def text(self, value, reader):
        if not isinstance(value, list):
            return self.item.text(value, reader)
        return ", ".join(self.item.text(item, reader) for item in value if item not in EMPTY)

    def change(self, old, new, reader):
        if isinstance(old, list) and isinstance(new, list) and old and new:
            added = [item for item in new if item not in old]
            removed = [item for item in old if item not in new]
            parts = []
            if added:
                parts.append(_("added: %(items)s") % {"items": self.text(added, reader)})
            if removed:
                parts.append(_("removed: %(items)s") % {"items": self.text(removed, reader)})
            return "", join(parts)
        return super().change(old, new, reader)


class Ref(Value):
    """The id of an object of a registered kind, shown by its name (or as deleted)."""

    def __init__(self, kind: str):
        self.kind = kind

    def references(self, value):
        pk = _as_id(value)
        return [(self.kind, pk)] if pk is not None else []

    def text(self, value, reader):
        return reader.name(self.kind, value)


class Moment(Value):
    """A date and time (ISO 8601 as stored), shown in the reader's time zone."""

    def text(self, value, reader):
        moment = value if isinstance(value, datetime) else parse_datetime(str(value))
        if moment is None:
            return plain(value)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, zoneinfo.ZoneInfo("UTC"))
        return formats.date_format(moment.astimezone(reader.tzinfo), "DATETIME_FORMAT")


class Language(Value):
    """A language code, shown by the language's name in the reader's language."""

    def text(self, value, reader):
        names = dict(settings.LANGUAGES)
        return str(names[value]) if value in names else plain(value)


# --- fields ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    value: Value
    # What an empty new value means for this field ("no end date", "forever"); None: it is left out.
    none: str | None = None
    # False: an internal id kept for machines (the export's `changes`), not described to people.
    shown: bool = True
    order: int = field(default=0, compare=False)  # when it was taught: see field_order

    def change(self, old, new, reader: Reader) -> tuple[str, str]:
        old_text, new_text = self.value.change(old, new, reader)
        if self.none is not None and new in EMPTY:
            new_text = str(self.none)
        return old_text, new_text

    def current(self, old, new, reader: Reader) -> str:
        """The value a sentence names: the new one, or the old one when the change took it away."""
        old_text, new_text = self.change(old, new, reader)
        return new_text or old_text

    def references(self, old, new) -> Iterable[Reference]:
        for value in (old, new):
            if value not in EMPTY:
                yield from self.value.references(value)


_FIELDS: dict[tuple[str, str], Field] = {}
_ORDER = itertools.count()


def register_field(
    name: str,
    label=None,
    value: Value | None = None,
    *,
    none=None,
    shown: bool = True,
    actions: Iterable[str] = (),
) -> None:
    """Teach audit one change field: its label and how its values read; for `actions` only, or for every
    action that has no registration of its own. `shown=False` for an internal id people need not see."""
    if shown and label is None:
        raise ValueError(f"The audit field {name!r} needs a label.")
    spec = Field(name, label or "", value or Text(), none=none, shown=shown, order=next(_ORDER))
    for action in tuple(actions) or ("",):
        _FIELDS[(action, name)] = spec


def get_field(action: str, name: str) -> Field | None:
    return _FIELDS.get((action, name)) or _FIELDS.get(("", name))


def field_order(action: str, name: str) -> tuple[int, int]:
    """Where a field's line goes among an event's changes: the fields registered for the action itself
    first (they say what is particular about it), then the others, each in the order they were taught."""
    specific = _FIELDS.get((action, name))
    if specific is not None:
        return (0, specific.order)
    common = _FIELDS.get(("", name))
    return (1, common.order if common is not None else 10**9)


def join(items: Iterable[str]) -> str:
    """Items of a list as one line, with the reader's language's separator."""
    return pgettext("list separator", "; ").join(items)


def unknown_field(name: str) -> Field:
    """A field no vocabulary knows (an event older than its registration): that something else changed,
    without its stored name or values, which could read as anything (the raw change stays in exports)."""
    return Field(name, pgettext("audit field", "Other detail"), Redacted())


def unknown_fields(action: str, changes: Mapping) -> list[str]:
    return sorted(name for name in changes if get_field(action, name) is None)
