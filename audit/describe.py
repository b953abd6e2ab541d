"""The one description of an audit event, for every page, export and API response that shows events: a
sentence in the reader's language ("Li Wei gave Ivan Petrov the role Picker") and each change as a
translated label with translated values, naming people and things from the vocabularies the apps teach
audit (see vocabulary.py). Stored events keep ids only; names are looked up when shown, for a whole batch
in one query per kind of thing, and a thing that no longer exists reads as deleted."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from string import Formatter

from django.utils.translation import gettext as _

from . import vocabulary
from .events import get_event_type
from .models import AuditEvent
from .vocabulary import EMPTY, Reader


@dataclass(frozen=True)
class Detail:
    """One line of what changed: `old` is "" when there was nothing before (or nothing worth saying);
    `text` the whole line, worded when described (an export writes it after the language is reset)."""

    field: str
    label: str
    old: str
    new: str
    text: str = ""

    @classmethod
    def of(cls, field: str, label: str, old: str, new: str) -> "Detail":
        if old:
            text = _("%(label)s: %(old)s → %(new)s") % {"label": label, "old": old, "new": new}
        else:
            text = _("%(label)s: %(value)s") % {"label": label, "value": new}
        return cls(field, label, old, new, text)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Description:
    event: AuditEvent
    label: str  # the action, e.g. "Role granted"
    text: str  # the sentence
    actor: str
    target: str
    details: tuple[Detail, ...]
    details_text: str  # the details as one line


def describe_events(events: Iterable[AuditEvent], *, time_zone=None) -> list[Description]:
    """The events described in the active language, moments in `time_zone` (the seller's; UTC if None).
    One query per kind of thing the events mention, whatever their number."""
    events = list(events)
    reader = Reader.load(
        ((event.seller_id, kind, pk) for event in events for kind, pk in _references(event)), time_zone
    )
    return [_describe(event, reader.of_seller(event.seller_id)) for event in events]


def _pairs(event: AuditEvent) -> Iterator[tuple[str, object, object]]:
    """(field, old, new) of each change; a value stored without its old side counts as new."""
    for name, values in (event.changes or {}).items():
        if isinstance(values, list) and len(values) == 2:
            yield name, values[0], values[1]
        else:
            yield name, None, values


def _field(event: AuditEvent, name: str) -> vocabulary.Field:
    return vocabulary.get_field(event.action, name) or vocabulary.unknown_field(name)


def _references(event: AuditEvent) -> Iterator[vocabulary.Reference]:
    if event.actor_user_id is not None:
        yield ("user", event.actor_user_id)
    if event.actor_token_id is not None:
        yield ("token", event.actor_token_id)
    if event.target_type and event.target_id is not None:
        yield (event.target_type, event.target_id)
    for name, old, new in _pairs(event):
        yield from _field(event, name).references(old, new)


def _actor(event: AuditEvent, reader: Reader) -> str:
    if event.actor_user_id is not None:
        return reader.name("user", event.actor_user_id)
    if event.actor_token_id is not None:
        return _("API token %(name)s") % {"name": reader.name("token", event.actor_token_id)}
    return ""


def _target(event: AuditEvent, reader: Reader, current: dict[str, str]) -> str:
    if not event.target_type or event.target_id is None:
        return ""
    if reader.exists(event.target_type, event.target_id) or not current.get("name"):
        return reader.name(event.target_type, event.target_id)
    # Gone, but the event itself recorded its name (a deleted role).
    return _("%(name)s (deleted)") % {"name": current["name"]}


def _details(event: AuditEvent, reader: Reader) -> tuple[list[Detail], dict[str, str]]:
    """The shown changes in the vocabulary's order, and the current value of every change by field (what
    the sentence's placeholders name)."""
    lines, current = [], {}
    for name, old, new in _pairs(event):
        spec = _field(event, name)
        try:
            old_text, new_text = spec.change(old, new, reader)
        except (TypeError, ValueError, KeyError, AttributeError):  # a malformed value must not break a page
            old_text, new_text = vocabulary.plain(old), vocabulary.plain(new)
        current[name] = new_text or old_text
        if not spec.shown or not (old_text or new_text):
            continue
        if old_text == new_text:
            old_text = ""
        if old_text and not new_text:
            new_text = "—"
        lines.append(
            (vocabulary.field_order(event.action, name), Detail.of(name, str(spec.label), old_text, new_text))
        )
    return [detail for _order, detail in sorted(lines, key=lambda line: line[0])], current


class _Blank(dict):
    def __missing__(self, key):
        return ""


def _describe(event: AuditEvent, reader: Reader) -> Description:
    details, current = _details(event, reader)
    actor = _actor(event, reader)
    target = _target(event, reader, current)
    if event.actor_user_id is not None and event.actor_token_id is not None:
        token = reader.name("token", event.actor_token_id)
        details.append(Detail.of("actor_token_id", _("Through the API token"), "", token))
    details_text = vocabulary.join(str(detail) for detail in details)
    try:
        event_type = get_event_type(event.action)
    except KeyError:
        return Description(event, event.action, event.action, actor, target, tuple(details), details_text)
    template = event_type.template
    if not actor and event_type.template_without_actor:
        template = event_type.template_without_actor
    if not target and event_type.template_without_target:
        template = event_type.template_without_target
    values = _Blank({name: text for name, text in current.items() if text not in EMPTY})
    values.update(actor=actor or _("OzonSeat"), target=target)
    try:
        text = Formatter().vformat(str(template), (), values)
    except (ValueError, IndexError, KeyError, AttributeError):  # a broken translation must not break a page
        text = str(event_type.label)
    return Description(event, str(event_type.label), text, actor, target, tuple(details), details_text)
