"""How people, sellers, memberships and API tokens, and the fields of account events, read in the audit log
(audit discovers this module at start-up; see audit/vocabulary.py)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from audit import events
from audit.vocabulary import (
    Boolean,
    Choice,
    Count,
    Language,
    Moment,
    Number,
    Redacted,
    Ref,
    Text,
    register_field,
    register_kind,
)

from .models import ApiToken, Membership, MembershipKind, MembershipStatus, Seller, User


def _person(display_name: str, email: str) -> str:
    return display_name or email


def _users(ids):
    rows = User.objects.filter(pk__in=ids).values_list("pk", "display_name", "email")
    return {pk: _person(display_name, email) for pk, display_name, email in rows}


def _memberships(ids):
    rows = Membership.objects.filter(pk__in=ids).values_list("pk", "user__display_name", "user__email")
    return {pk: _person(display_name, email) for pk, display_name, email in rows}


def _named(model):
    return lambda ids: dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))


register_kind("user", label=_("Person"), gone=_("a deleted user"), load=_users)
register_kind("membership", label=_("Member"), gone=_("a deleted user"), load=_memberships)
register_kind("seller", label=_("Seller"), gone=_("a deleted seller"), load=_named(Seller))
register_kind("token", label=_("API token"), gone=_("a deleted API token"), load=_named(ApiToken))

# --- the seller ---
register_field("name", pgettext_lazy("audit field", "Name"), Text())
register_field("owner_user_id", pgettext_lazy("audit field", "Owner"), Ref("user"))
register_field(
    "status",
    pgettext_lazy("audit field", "Status"),
    Choice({"pending_confirmation": _("waiting for the owner to confirm their e-mail address")}),
    actions=[events.SELLER_CREATED],
)
register_field("default_language", pgettext_lazy("audit field", "Default language"), Language())
register_field("time_zone", pgettext_lazy("audit field", "Time zone"), Text())
register_field(
    "invitation_lifetime_hours",
    pgettext_lazy("audit field", "Invitations valid for"),
    Count(ngettext_lazy("%(count)d hour", "%(count)d hours", "count")),
)
register_field("require_two_factor", pgettext_lazy("audit field", "Two-factor sign-in required"), Boolean())
register_field(
    "access_review_interval_days",
    pgettext_lazy("audit field", "Access reviewed every"),
    Count(ngettext_lazy("%(count)d day", "%(count)d days", "count")),
)

# --- members and invitations ---
register_field(
    "status", pgettext_lazy("audit field", "Status"), Choice(lambda: dict(MembershipStatus.choices))
)
register_field("kind", pgettext_lazy("audit field", "Type"), Choice(lambda: dict(MembershipKind.choices)))
register_field("job_title", pgettext_lazy("audit field", "Job title"), Text())
register_field("ends_at", pgettext_lazy("audit field", "Access ends"), Moment(), none=_("no end date"))
register_field("password_set", pgettext_lazy("audit field", "Password set"), Boolean())
register_field("attempt", pgettext_lazy("audit field", "Sending attempt"), Number())
register_field("open_sessions", pgettext_lazy("audit field", "Open sessions"), Number())
# The person is the event's target already; the invitation has no name of its own.
register_field("user_id", shown=False)
register_field("invitation_id", shown=False)

# --- people ---
register_field("other_sessions", pgettext_lazy("audit field", "Other open sessions"), Number())
register_field("two_factor", pgettext_lazy("audit field", "Two-factor sign-in"), Boolean())
register_field("display_name", pgettext_lazy("audit field", "Display name"), Redacted())
register_field(
    "preferred_language",
    pgettext_lazy("audit field", "Language"),
    Language(),
    none=_("the browser's language"),
)

# --- API tokens ---
register_field("token_id", pgettext_lazy("audit field", "API token"), Ref("token"))
register_field("expires_at", pgettext_lazy("audit field", "Expires"), Moment(), none=_("never"))
register_field("revoked", pgettext_lazy("audit field", "Revoked"), Boolean())
