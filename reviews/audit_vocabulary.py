"""How access reviews and the fields of their events read in the audit log (audit discovers this module at
start-up; see audit/vocabulary.py)."""

from django.utils import formats
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.models import ReviewDuePolicy
from audit import events
from audit.vocabulary import (
    Boolean,
    Choice,
    ItemCount,
    Number,
    Ref,
    Value,
    join,
    register_field,
    register_kind,
)
from roles.models import Market

from .models import AccessReview, CloseReason, Decision, PolicyOutcome, ReviewStatus, ReviewTrigger


def _day(value) -> str:
    day = parse_date(str(value)) if value else None
    return formats.date_format(day, "DATE_FORMAT") if day else ""


def _reviews(ids):
    return {
        pk: _("the access review opened on %(day)s") % {"day": _day(opened_on)}
        for pk, opened_on in AccessReview.objects.filter(pk__in=ids).values_list("pk", "opened_on")
    }


register_kind(
    "accessreview",
    label=gettext_lazy("Access review"),
    gone=gettext_lazy("a deleted access review"),
    load=_reviews,
)


class Day(Value):
    """A calendar day (ISO 8601 as stored), in the reader's date format."""

    def text(self, value, reader):
        return _day(value) or super().text(value, reader)


class Selection(Value):
    """Whom a review started by the owner covers: chosen members, and the members of chosen stores and
    markets (an empty selection: everyone)."""

    def references(self, value):
        if isinstance(value, dict):
            yield from (("membership", pk) for pk in value.get("members", []))
            yield from (("store", pk) for pk in value.get("stores", []))

    def text(self, value, reader):
        if not isinstance(value, dict):
            return super().text(value, reader)
        markets = dict(Market.choices)
        parts = []
        if value.get("members"):
            names = ", ".join(reader.name("membership", pk) for pk in value["members"])
            parts.append(_("members: %(names)s") % {"names": names})
        if value.get("stores"):
            names = ", ".join(reader.name("store", pk) for pk in value["stores"])
            parts.append(_("stores: %(names)s") % {"names": names})
        if value.get("markets"):
            names = ", ".join(str(markets.get(code, code)) for code in value["markets"])
            parts.append(_("markets: %(names)s") % {"names": names})
        return join(parts)


class Tally(Value):
    """How many items ended each way, e.g. {"keep": 3, "unanswered": 1}: each way by its label."""

    def __init__(self, labels):
        self.labels = labels

    def text(self, value, reader):
        if not isinstance(value, dict):
            return super().text(value, reader)
        labels = self.labels()
        return join(f"{labels.get(key, key)}: {count}" for key, count in value.items())


def _decisions():
    return {**dict(Decision.choices), "unanswered": _("unanswered")}


_OPENED = [events.REVIEW_OPENED]
_CLOSED = [events.REVIEW_CLOSED]

register_field("trigger", pgettext_lazy("audit field", "Opened"), Choice(lambda: dict(ReviewTrigger.choices)))
register_field(
    "selection", pgettext_lazy("audit field", "Who is reviewed"), Selection(), none=gettext_lazy("everyone")
)
register_field("item_count", pgettext_lazy("audit field", "Members to review"), Number())
register_field("due_on", pgettext_lazy("audit field", "Due"), Day())
register_field(
    "due_policy",
    pgettext_lazy("audit field", "Unanswered at the due date"),
    Choice(lambda: dict(ReviewDuePolicy.choices)),
)
register_field(
    "policy", pgettext_lazy("audit field", "Policy"), Choice(lambda: dict(ReviewDuePolicy.choices))
)
register_field("review_id", pgettext_lazy("audit field", "Access review"), Ref("accessreview"))
register_field("item_id", shown=False)  # the member the event is about says which item
register_field("decision", pgettext_lazy("audit field", "Decision"), Choice(lambda: dict(Decision.choices)))
register_field(
    "commented",
    pgettext_lazy("audit field", "Comment"),
    Boolean(true=gettext_lazy("with a comment"), false=gettext_lazy("none")),
)
register_field(
    "status",
    pgettext_lazy("audit field", "Status"),
    Choice(lambda: dict(ReviewStatus.choices)),
    actions=_CLOSED,
)
register_field(
    "reason",
    pgettext_lazy("audit field", "Why it closed"),
    Choice(lambda: dict(CloseReason.choices)),
    actions=_CLOSED,
)
register_field("decisions", pgettext_lazy("audit field", "Answers"), Tally(_decisions))
register_field(
    "outcomes",
    pgettext_lazy("audit field", "What the policy did"),
    Tally(lambda: dict(PolicyOutcome.choices)),
)
register_field("item_ids", pgettext_lazy("audit field", "Items dealt with"), ItemCount())
