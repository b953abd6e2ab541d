"""What a review suggests for each member, from the snapshot alone (a pure function of `now`)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.models import MembershipKind, MembershipStatus
from roles import catalog

from .models import Recommendation

INACTIVE_AFTER = timedelta(days=30)
ACTIVE_WITHIN = timedelta(days=7)
# Holding any of these is holding power over the seller itself: a reviewer should look twice.
POWERFUL = {p.codename for p in catalog.all_permissions() if p.level == catalog.SELLER}


@dataclass(frozen=True)
class Suggestion:
    recommendation: str
    reason: str
    days: int | None = None
    role: str = ""


def _days(since: datetime, now: datetime) -> int:
    return max(0, (now - since).days)


def recommend(*, membership, access: list[dict], last_sign_in_at, last_api_use_at, tokens, now) -> Suggestion:
    if membership.kind == MembershipKind.OWNER:
        return Suggestion(Recommendation.KEEP, "owner")
    if membership.status == MembershipStatus.SUSPENDED:
        return Suggestion(
            Recommendation.REMOVE, "suspended", _days(membership.suspended_at or membership.created_at, now)
        )
    if membership.status == MembershipStatus.INVITED:
        return Suggestion(Recommendation.CHECK, "invitation_pending", _days(membership.created_at, now))
    if not access:
        return Suggestion(Recommendation.REMOVE, "no_role")
    started = membership.activated_at or membership.created_at
    if membership.kind == MembershipKind.SERVICE:
        if not any(token["usable"] for token in tokens):
            return Suggestion(Recommendation.REMOVE, "no_usable_token")
        last = last_api_use_at
    else:
        last = max(filter(None, [last_sign_in_at, last_api_use_at]), default=None)
    if last is None and now - started >= INACTIVE_AFTER:
        return Suggestion(Recommendation.REMOVE, "never_used", _days(started, now))
    if last is not None and now - last >= INACTIVE_AFTER:
        return Suggestion(Recommendation.REMOVE, "inactive", _days(last, now))
    powerful = next((a for a in access if POWERFUL & set(a["permissions"])), None)
    if powerful is not None:
        return Suggestion(Recommendation.CHECK, "powerful_role", role=powerful["role_name"])
    if last is not None and now - last < ACTIVE_WITHIN:
        return Suggestion(Recommendation.KEEP, "active_this_week")
    return Suggestion(Recommendation.KEEP, "active_this_month")


def explain(item) -> str:
    """The recommendation in words, in the active language."""
    days = item.recommendation_days or 0
    texts = {
        "owner": _("keep: the owner's own access (nobody else can review it)"),
        "suspended": ngettext_lazy(
            "remove: suspended for %(days)d day", "remove: suspended for %(days)d days", days
        ),
        "invitation_pending": ngettext_lazy(
            "check: invitation not accepted for %(days)d day",
            "check: invitation not accepted for %(days)d days",
            days,
        ),
        "no_role": _("remove: holds no role"),
        "no_usable_token": _("remove: a service account without a usable token"),
        "never_used": ngettext_lazy(
            "remove: never signed in or used the API in %(days)d day",
            "remove: never signed in or used the API in %(days)d days",
            days,
        ),
        "inactive": ngettext_lazy(
            "remove: no sign-in or API use for %(days)d day",
            "remove: no sign-in or API use for %(days)d days",
            days,
        ),
        "powerful_role": _("check: holds %(role)s, which manages the seller"),
        "active_this_week": _("keep: active this week"),
        "active_this_month": _("keep: active this month"),
    }
    text = texts.get(item.recommendation_reason)
    if text is None:
        return item.get_recommendation_display()
    return str(text) % {"days": days, "role": item.recommendation_role}
