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
    Minutes,
    Moment,
    Number,
    Redacted,
    Ref,
    Text,
    register_field,
    register_kind,
)

from .models import (
    ApiToken,
    Membership,
    MembershipKind,
    MembershipStatus,
    ReviewDuePolicy,
    RevocationReason,
    Seller,
    User,
)
from .privacy import former_member, is_erased
from .selectors import member_name, member_names
from .time_zones import time_zone_label


def _users(keys):
    """People named as users (an event's actor, an owner…) as the event's seller sees them: a pending
    member by the name it typed, someone who is not its member by no name. In events of no seller (a
    person's own), by their own name."""
    names = {}
    in_sellers = {(seller_id, user_id) for seller_id, user_id in keys if seller_id is not None}
    if in_sellers:
        _by_membership, by_user = member_names(
            {seller_id for seller_id, _user_id in in_sellers},
            user_ids={user_id for _seller_id, user_id in in_sellers},
        )
        names.update({key: name for key, name in by_user.items() if key in in_sellers})
    own = {user_id for seller_id, user_id in keys if seller_id is None}
    for pk, display_name, email in User.objects.filter(pk__in=own).values_list("pk", "display_name", "email"):
        names[(None, pk)] = display_name or email
    erased = {key for key, name in names.items() if is_erased(name)}
    if erased:  # someone erased (accounts/privacy.py) reads as "former member #<member id there>"
        members = Membership.objects.filter(
            seller_id__in={seller_id for seller_id, _user_id in erased if seller_id is not None},
            user_id__in={user_id for _seller_id, user_id in erased},
        ).values_list("seller_id", "user_id", "pk")
        member_ids = {(seller_id, user_id): pk for seller_id, user_id, pk in members}
        for key in erased:
            names[key] = former_member(member_ids.get(key, key[1]))
    return names


def _memberships(ids):
    """Members as their seller sees them (Membership.display_name); erased people as former members."""
    names = dict(Membership.objects.filter(pk__in=ids).annotate(name=member_name()).values_list("pk", "name"))
    return {pk: former_member(pk) if is_erased(name) else name for pk, name in names.items()}


class TimeZone(Text):
    """An IANA name as the settings page offers it: the city or country in the reader's language."""

    def text(self, value, reader):
        return time_zone_label(str(value))


def _named(model):
    return lambda ids: dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))


register_kind("user", label=_("Person"), gone=_("a deleted user"), load=_users, per_seller=True)
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
register_field("time_zone", pgettext_lazy("audit field", "Time zone"), TimeZone())
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
register_field(
    "access_review_length_days",
    pgettext_lazy("audit field", "Time to answer an access review"),
    Count(ngettext_lazy("%(count)d day", "%(count)d days", "count")),
)
# The policy as the seller sets it (seller.updated) and as a review keeps it (the reviews app's events).
register_field(
    "access_review_due_policy",
    pgettext_lazy("audit field", "Unanswered at the due date"),
    Choice(lambda: dict(ReviewDuePolicy.choices)),
)

register_field(
    "password_max_age_days",
    pgettext_lazy("audit field", "Passwords expire after"),
    Count(ngettext_lazy("%(count)d day", "%(count)d days", "count"), zero=_("never")),
)
register_field(
    "session_idle_timeout_minutes",
    pgettext_lazy("audit field", "Signed out when idle for"),
    Count(ngettext_lazy("%(count)d minute", "%(count)d minutes", "count")),
)
register_field(
    "session_max_age_hours",
    pgettext_lazy("audit field", "Signed out in any case after"),
    Count(ngettext_lazy("%(count)d hour", "%(count)d hours", "count")),
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
register_field("open_invitations", pgettext_lazy("audit field", "Open invitations"), Number())
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

# --- signing in ---
register_field(
    "step",
    pgettext_lazy("audit field", "Refused at"),
    Choice(
        {
            "password": _("the password"),
            "two_factor": _("the two-factor code"),
            "password_reset": _("a password reset"),
        }
    ),
    actions=[events.SIGN_IN_LOCKED],
)
register_field(
    "scope",
    pgettext_lazy("audit field", "Paused"),
    Choice(
        {
            "account": _("sign-ins to this account from one address"),
            "address": _("sign-ins to any account from one address"),
            "second_factor": _("two-factor codes of this person"),
            "password_reset": _("password reset e-mails to this address"),
        }
    ),
    actions=[events.SIGN_IN_LOCKED],
)
register_field(
    "retry_after_seconds", pgettext_lazy("audit field", "For"), Minutes(), actions=[events.SIGN_IN_LOCKED]
)
register_field("recovery_codes_left", pgettext_lazy("audit field", "Recovery codes left"), Number())
register_field("replaced_earlier_codes", pgettext_lazy("audit field", "Earlier codes replaced"), Boolean())
register_field(
    "expires_at",
    pgettext_lazy("audit field", "Password expires"),
    Moment(),
    actions=[events.PASSWORD_EXPIRY_REMINDED],
)

# --- API tokens ---
register_field("token_id", pgettext_lazy("audit field", "API token"), Ref("token"))
register_field("expires_at", pgettext_lazy("audit field", "Expires"), Moment(), none=_("never"))
register_field("revoked", pgettext_lazy("audit field", "Revoked"), Boolean())
# Why a token or a role assignment ended (token.revoked, assignment.revoked).
register_field(
    "reason", pgettext_lazy("audit field", "Reason"), Choice(lambda: dict(RevocationReason.choices))
)
