"""The one registry of audit event types: each action has a translated label and a display template.

The template is formatted with `actor` and `target` (display names, resolved when shown, never stored)."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class EventType:
    action: str
    label: str
    template: str


_REGISTRY: dict[str, EventType] = {}


def register(action: str, label, template) -> str:
    _REGISTRY[action] = EventType(action, label, template)
    return action


def get_event_type(action: str) -> EventType:
    try:
        return _REGISTRY[action]
    except KeyError:
        raise KeyError(f"Unknown audit action {action!r}: add it to audit/events.py") from None


def all_event_types() -> list[EventType]:
    return sorted(_REGISTRY.values(), key=lambda event_type: event_type.action)


SELLER_CREATED = register("seller.created", _("Seller created"), _("{actor} created the seller"))
SELLER_UPDATED = register(
    "seller.updated", _("Seller settings changed"), _("{actor} changed the seller settings")
)
OWNERSHIP_TRANSFERRED = register(
    "seller.ownership_transferred", _("Ownership transferred"), _("{actor} transferred ownership to {target}")
)
MEMBER_INVITED = register("member.invited", _("Member invited"), _("{actor} invited {target}"))
MEMBER_UPDATED = register("member.updated", _("Member edited"), _("{actor} edited {target}"))
MEMBER_SUSPENDED = register("member.suspended", _("Member suspended"), _("{actor} suspended {target}"))
MEMBER_REACTIVATED = register(
    "member.reactivated", _("Member reactivated"), _("{actor} reactivated {target}")
)
MEMBER_REMOVED = register("member.removed", _("Member removed"), _("{actor} removed {target}"))
MEMBER_EXPIRED = register(
    "member.expired", _("Access ended"), _("The access of {target} reached its end date")
)
INVITATION_SENT = register("invitation.sent", _("Invitation e-mailed"), _("Invitation e-mailed to {target}"))
INVITATION_RESENT = register(
    "invitation.resent", _("Invitation resent"), _("{actor} resent the invitation of {target}")
)
INVITATION_REVOKED = register(
    "invitation.revoked", _("Invitation revoked"), _("{actor} revoked the invitation of {target}")
)
INVITATION_ACCEPTED = register(
    "invitation.accepted", _("Invitation accepted"), _("{actor} accepted the invitation")
)
EMAIL_CONFIRMED = register(
    "auth.email_confirmed", _("E-mail confirmed"), _("{actor} confirmed their e-mail address")
)
LOGIN = register("auth.login", _("Signed in"), _("{actor} signed in"))
LOGIN_FAILED = register("auth.login_failed", _("Sign-in failed"), _("Failed sign-in for {target}"))
LOGOUT = register("auth.logout", _("Signed out"), _("{actor} signed out"))
PASSWORD_CHANGED = register(
    "auth.password_changed", _("Password changed"), _("{actor} changed their password")
)
PASSWORD_RESET = register("auth.password_reset", _("Password reset"), _("{actor} reset their password"))
SELLER_SWITCHED = register("auth.seller_switched", _("Seller switched"), _("{actor} switched to this seller"))
ACCESS_DENIED = register("access.denied", _("Access denied"), _("{actor} was denied access"))
TOKEN_CREATED = register(
    "token.created", _("API token created"), _("{actor} created an API token for {target}")
)
TOKEN_REVOKED = register(
    "token.revoked", _("API token revoked"), _("{actor} revoked an API token of {target}")
)
SERVICE_ACCOUNT_CREATED = register(
    "service_account.created", _("Service account created"), _("{actor} created the service account {target}")
)
