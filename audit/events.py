"""The one registry of audit event types: each action has a translated label and a display template.

The template is formatted with `actor` and `target` (display names, resolved when shown, never stored) and
with the new value of each field in the event's changes (e.g. `{path}` for access.denied); a placeholder the
event lacks renders empty."""

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
MEMBER_SIGNED_OUT = register(
    "member.signed_out", _("Signed out everywhere"), _("{actor} signed {target} out everywhere")
)
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
CONFIRMATION_RESENT = register(
    "auth.confirmation_resent",
    _("Confirmation e-mail resent"),
    _("{actor} asked for a new link to confirm their e-mail address"),
)
LOGIN = register("auth.login", _("Signed in"), _("{actor} signed in"))
LOGIN_FAILED = register("auth.login_failed", _("Sign-in failed"), _("Failed sign-in for {target}"))
LOGOUT = register("auth.logout", _("Signed out"), _("{actor} signed out"))
PASSWORD_CHANGED = register(
    "auth.password_changed", _("Password changed"), _("{actor} changed their password")
)
SIGNED_OUT_ELSEWHERE = register(
    "auth.signed_out_elsewhere", _("Other sessions signed out"), _("{actor} signed out their other sessions")
)
PASSWORD_RESET = register("auth.password_reset", _("Password reset"), _("{actor} reset their password"))
TWO_FACTOR_ENROLLED = register(
    "auth.two_factor_enrolled", _("Two-factor sign-in set up"), _("{actor} set up two-factor sign-in")
)
SIGN_IN_LOCKED = register(
    "auth.sign_in_locked",
    _("Sign-in paused"),
    _("Sign-in for {target} paused after repeated failures"),
)
RECOVERY_CODES_GENERATED = register(
    "auth.recovery_codes_generated",
    _("Recovery codes replaced"),
    _("{actor} got new two-factor recovery codes"),
)
RECOVERY_CODE_USED = register(
    "auth.recovery_code_used", _("Recovery code used"), _("{actor} signed in with a recovery code")
)
TWO_FACTOR_RESET = register(
    "auth.two_factor_reset",
    _("Two-factor sign-in reset"),
    _("{actor} reset the two-factor sign-in of {target}"),
)
PASSWORD_EXPIRY_REMINDED = register(
    "auth.password_expiry_reminded",
    _("Password expiry reminder e-mailed"),
    _("{target} was reminded that their password expires soon"),
)
SELLER_SWITCHED = register("auth.seller_switched", _("Seller switched"), _("{actor} switched to this seller"))
ACCESS_DENIED = register("access.denied", _("Access denied"), _("{actor} was denied access to {path}"))
EXPORTED = register("audit.exported", _("Audit log exported"), _("{actor} exported the audit log ({format})"))
ARCHIVED = register(
    "audit.archived",
    _("Audit events archived"),
    _("{removed_count} audit events up to #{checkpoint_sequence} were archived and removed"),
)
RETENTION_CHANGED = register(
    "audit.retention_changed",
    _("Audit retention changed"),
    _("{actor} changed how long the audit log is kept"),
)
PROFILE_UPDATED = register("user.profile_updated", _("Profile changed"), _("{actor} changed their profile"))

# --- roles, scopes and the permission index (roles app) ---
ROLE_CREATED = register("role.created", _("Role created"), _("{actor} created the role {target}"))
ROLE_UPDATED = register("role.updated", _("Role changed"), _("{actor} changed the role {target}"))
ROLE_CLONED = register("role.cloned", _("Role cloned"), _("{actor} cloned a role as {target}"))
ROLE_DELETED = register("role.deleted", _("Role deleted"), _("{actor} deleted the role {target}"))
ASSIGNMENT_GRANTED = register("assignment.granted", _("Role granted"), _("{actor} gave {target} a role"))
ASSIGNMENT_REVOKED = register("assignment.revoked", _("Role revoked"), _("{actor} took a role from {target}"))
STORE_ADDED = register("store.added", _("Store added"), _("{actor} added the store {target}"))
STORE_RENAMED = register("store.renamed", _("Store renamed"), _("{actor} renamed the store {target}"))
STORE_DEACTIVATED = register(
    "store.deactivated", _("Store deactivated"), _("{actor} deactivated the store {target}")
)
WAREHOUSE_ADDED = register("warehouse.added", _("Warehouse added"), _("{actor} added the warehouse {target}"))
WAREHOUSE_RENAMED = register(
    "warehouse.renamed", _("Warehouse renamed"), _("{actor} renamed the warehouse {target}")
)
WAREHOUSE_DEACTIVATED = register(
    "warehouse.deactivated", _("Warehouse deactivated"), _("{actor} deactivated the warehouse {target}")
)
PERMISSIONS_REPAIRED = register(
    "permissions.repaired",
    _("Permission index repaired"),
    _("The permission index was repaired to match the assignments"),
)
TOKEN_CREATED = register(
    "token.created", _("API token created"), _("{actor} created an API token for {target}")
)
TOKEN_REVOKED = register(
    "token.revoked", _("API token revoked"), _("{actor} revoked an API token of {target}")
)
SERVICE_ACCOUNT_CREATED = register(
    "service_account.created", _("Service account created"), _("{actor} created the service account {target}")
)
