"""How the audit log's own events read: refusals, exports, archiving, retention (see vocabulary.py)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy, pgettext_lazy

from . import events
from .vocabulary import Choice, Count, Moment, Number, Ref, Text, Value, get_kind, join, plain, register_field


class Filters(Value):
    """The filters of an export (EventFilters.as_dict()), each as the viewer's filter form names it."""

    LABELS = {  # in the filter form's order
        "actor_id": gettext_lazy("Person"),
        "action": gettext_lazy("Action"),
        "target_type": gettext_lazy("Target type"),
        "target_id": gettext_lazy("Target"),
        "store_id": gettext_lazy("Store"),
        "since": gettext_lazy("From"),
        "until": gettext_lazy("Before"),
    }

    def references(self, value):
        if not isinstance(value, dict):
            return
        if value.get("actor_id") is not None:
            yield from Ref("user").references(value["actor_id"])
        if value.get("store_id") is not None:
            yield from Ref("store").references(value["store_id"])
        if value.get("target_type") and value.get("target_id") is not None:
            yield from Ref(value["target_type"]).references(value["target_id"])

    def text(self, value, reader):
        if not isinstance(value, dict):
            return plain(value)
        parts = []
        for key in sorted(value, key=lambda key: list(self.LABELS).index(key) if key in self.LABELS else 99):
            if key == "target_type" and value.get("target_id") is not None:
                continue  # the target reads as "Member: Ivan Petrov"
            label = self.LABELS.get(key) or pgettext_lazy("audit field", "Other detail")
            if key == "target_id" and value.get("target_type"):
                kind = get_kind(value["target_type"])
                label = kind.label if kind else label
            parts.append(
                _("%(label)s: %(value)s") % {"label": label, "value": self._item(key, value, reader)}
            )
        return join(parts)

    @staticmethod
    def _item(key, value, reader) -> str:
        item = value[key]
        if key == "actor_id":
            return reader.name("user", item)
        if key == "store_id":
            return reader.name("store", item)
        if key == "action":
            try:
                return str(events.get_event_type(item).label)
            except KeyError:
                return plain(item)
        if key == "target_type":
            kind = get_kind(item)
            return str(kind.label) if kind else plain(item)
        if key == "target_id" and value.get("target_type"):
            return reader.name(value["target_type"], item)
        if key in ("since", "until"):
            return Moment().text(item, reader)
        return plain(item)


register_field("path", pgettext_lazy("audit field", "Address"), Text(), actions=[events.ACCESS_DENIED])
register_field(
    "status",
    pgettext_lazy("audit field", "Refused because"),
    Choice(
        {
            403: gettext_lazy("the permission is missing"),
            404: gettext_lazy("not a member of that seller"),
        }
    ),
    actions=[events.ACCESS_DENIED],
)
register_field(
    "requested_seller_id",
    pgettext_lazy("audit field", "Seller asked for"),
    Ref("seller"),
    actions=[events.ACCESS_DENIED],
)
register_field(
    "format",
    pgettext_lazy("audit field", "Format"),
    Choice({"csv": "CSV", "jsonl": "JSON Lines"}),
    actions=[events.EXPORTED],
)
register_field("filters", pgettext_lazy("audit field", "Filters"), Filters(), actions=[events.EXPORTED])
register_field("cutoff", pgettext_lazy("audit field", "Older than"), Moment(), actions=[events.ARCHIVED])
register_field(
    "removed_count",
    pgettext_lazy("audit field", "Removed"),
    Count(ngettext_lazy("%(count)d event", "%(count)d events", "count")),
    actions=[events.ARCHIVED],
)
register_field(
    "checkpoint_sequence",
    pgettext_lazy("audit field", "Archived up to event"),
    Number(),
    actions=[events.ARCHIVED],
)
register_field(
    "checkpoint_hash", pgettext_lazy("audit field", "Checkpoint hash"), Text(), actions=[events.ARCHIVED]
)
register_field(
    "archive_sha256", pgettext_lazy("audit field", "Archive file SHA-256"), Text(), actions=[events.ARCHIVED]
)
register_field(
    "retention_days",
    pgettext_lazy("audit field", "Keep events for"),
    Count(ngettext_lazy("%(count)d day", "%(count)d days", "count")),
    none=gettext_lazy("forever"),
    actions=[events.RETENTION_CHANGED],
)
register_field(
    "digest_recipient_count",
    pgettext_lazy("audit field", "Extra digest recipients"),
    Count(ngettext_lazy("%(count)d address", "%(count)d addresses", "count")),
    actions=[events.DIGEST_RECIPIENTS_CHANGED],
)
