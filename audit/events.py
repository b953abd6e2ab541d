"""The one registry of audit event types: each action has a translated label and a sentence.

The sentence is formatted with `actor` and `target` (names, looked up when shown, never stored) and with
each field of the event's changes by name, as the field's vocabulary reads it (e.g. `{role_id}` is the
role's name, `{path}` the refused path): its new value, or its old one when the change took it away. A
placeholder the event lacks renders empty. `without_actor` / `without_target`: the sentence for an event
recorded with no actor (nobody signed in) or no target (an unknown address). See audit/describe.py."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class EventType:
    action: str
    label: str
    template: str
    template_without_actor: str = ""
    template_without_target: str = ""


_REGISTRY: dict[str, EventType] = {}


def register(action: str, label, template, *, without_actor="", without_target="") -> str:
    _REGISTRY[action] = EventType(action, label, template, without_actor, without_target)
    return action


def get_event_type(action: str) -> EventType:
    try:
        return _REGISTRY[action]
    except KeyError:
        raise KeyError(f"Unknown audit action {action!r}: add it to audit/events.py") from None


def all_event_types() -> list[EventType]:
    return sorted(_REGISTRY.values(), key=lambda event_type: event_type.action)


# Labels have a context of their own ("audit event"): a label like "Signed in" means something else in the
# project's catalog (a column of the sessions list), whose translations take precedence over this app's.

SELLER_CREATED = register(
    "seller.created", pgettext_lazy("audit event", "Seller created"), _("{actor} created the seller {target}")
)
SELLER_UPDATED = register(
    "seller.updated",
    pgettext_lazy("audit event", "Seller settings changed"),
    _("{actor} changed the seller settings"),
)
OWNERSHIP_TRANSFERRED = register(
    "seller.ownership_transferred",
    pgettext_lazy("audit event", "Ownership transferred"),
    _("{actor} transferred ownership of the seller to {target}"),
)
MEMBER_INVITED = register(
    "member.invited", pgettext_lazy("audit event", "Member invited"), _("{actor} invited {target}")
)
MEMBER_UPDATED = register(
    "member.updated",
    pgettext_lazy("audit event", "Member edited"),
    _("{actor} edited the details of {target}"),
)
MEMBER_SUSPENDED = register(
    "member.suspended", pgettext_lazy("audit event", "Member suspended"), _("{actor} suspended {target}")
)
MEMBER_SIGNED_OUT = register(
    "member.signed_out",
    pgettext_lazy("audit event", "Signed out everywhere"),
    _("{actor} signed {target} out everywhere"),
)
MEMBER_REACTIVATED = register(
    "member.reactivated",
    pgettext_lazy("audit event", "Member reactivated"),
    _("{actor} reactivated {target}"),
)
MEMBER_REMOVED = register(
    "member.removed", pgettext_lazy("audit event", "Member removed"), _("{actor} removed {target}")
)
MEMBER_EXPIRED = register(
    "member.expired",
    pgettext_lazy("audit event", "Access ended"),
    _("The access of {target} reached its end date"),
)
INVITATION_SENT = register(
    "invitation.sent",
    pgettext_lazy("audit event", "Invitation e-mailed"),
    _("The invitation was e-mailed to {target}"),
)
INVITATION_RESENT = register(
    "invitation.resent",
    pgettext_lazy("audit event", "Invitation resent"),
    _("{actor} sent the invitation to {target} again"),
)
INVITATION_REVOKED = register(
    "invitation.revoked",
    pgettext_lazy("audit event", "Invitation revoked"),
    _("{actor} revoked the invitation to {target}"),
)
INVITATION_ACCEPTED = register(
    "invitation.accepted",
    pgettext_lazy("audit event", "Invitation accepted"),
    _("{actor} accepted the invitation"),
)
EMAIL_CONFIRMED = register(
    "auth.email_confirmed",
    pgettext_lazy("audit event", "E-mail address confirmed"),
    _("{actor} confirmed their e-mail address"),
)
CONFIRMATION_RESENT = register(
    "auth.confirmation_resent",
    pgettext_lazy("audit event", "Confirmation e-mail resent"),
    _("{actor} asked for a new link to confirm their e-mail address"),
)
LOGIN = register("auth.login", pgettext_lazy("audit event", "Signed in"), _("{actor} signed in"))
LOGIN_FAILED = register(
    "auth.login_failed",
    pgettext_lazy("audit event", "Sign-in failed"),
    _("A sign-in as {target} failed"),
    without_target=_("A sign-in with an unknown address failed"),
)
LOGOUT = register("auth.logout", pgettext_lazy("audit event", "Signed out"), _("{actor} signed out"))
PASSWORD_CHANGED = register(
    "auth.password_changed",
    pgettext_lazy("audit event", "Password changed"),
    _("{actor} changed their password"),
)
SIGNED_OUT_ELSEWHERE = register(
    "auth.signed_out_elsewhere",
    pgettext_lazy("audit event", "Other sessions signed out"),
    _("{actor} signed out of their other sessions"),
)
PASSWORD_RESET = register(
    "auth.password_reset", pgettext_lazy("audit event", "Password reset"), _("{actor} reset their password")
)
TWO_FACTOR_ENROLLED = register(
    "auth.two_factor_enrolled",
    pgettext_lazy("audit event", "Two-factor sign-in set up"),
    _("{actor} set up two-factor sign-in"),
)
SIGN_IN_LOCKED = register(
    "auth.sign_in_locked",
    pgettext_lazy("audit event", "Sign-in paused"),
    _("Sign-in for {target} paused after repeated failures"),
)
RECOVERY_CODES_GENERATED = register(
    "auth.recovery_codes_generated",
    pgettext_lazy("audit event", "Recovery codes replaced"),
    _("{actor} got new two-factor recovery codes"),
)
RECOVERY_CODE_USED = register(
    "auth.recovery_code_used",
    pgettext_lazy("audit event", "Recovery code used"),
    _("{actor} signed in with a recovery code"),
)
TWO_FACTOR_RESET = register(
    "auth.two_factor_reset",
    pgettext_lazy("audit event", "Two-factor sign-in reset"),
    _("{actor} reset the two-factor sign-in of {target}"),
)
PASSWORD_EXPIRY_REMINDED = register(
    "auth.password_expiry_reminded",
    pgettext_lazy("audit event", "Password expiry reminder e-mailed"),
    _("{target} was reminded that their password expires soon"),
)
SELLER_SWITCHED = register(
    "auth.seller_switched",
    pgettext_lazy("audit event", "Seller switched"),
    _("{actor} switched to this seller"),
)
ACCESS_DENIED = register(
    "access.denied",
    pgettext_lazy("audit event", "Access denied"),
    _("{actor} was refused access to {path}"),
    without_actor=_("A visitor who was not signed in was refused access to {path}"),
)
EXPORTED = register(
    "audit.exported",
    pgettext_lazy("audit event", "Audit log exported"),
    _("{actor} exported the audit log ({format})"),
)
ARCHIVED = register(
    "audit.archived",
    pgettext_lazy("audit event", "Audit events archived"),
    _("Audit events older than {cutoff} were archived and removed ({removed_count})"),
)
RETENTION_CHANGED = register(
    "audit.retention_changed",
    pgettext_lazy("audit event", "Audit retention changed"),
    _("{actor} changed how long the audit log is kept: {retention_days}"),
)
DIGEST_RECIPIENTS_CHANGED = register(
    "audit.digest_recipients_changed",
    pgettext_lazy("audit event", "Digest recipients changed"),
    _("{actor} changed who receives the audit log's daily digest: {digest_recipient_count}"),
)
DATA_EXPORTED = register(
    "user.data_exported",
    pgettext_lazy("audit event", "Personal data downloaded"),
    _("{actor} downloaded everything OzonSeat holds about them"),
)
ERASURE_REQUESTED = register(
    "user.erasure_requested",
    pgettext_lazy("audit event", "Erasure requested"),
    _("{actor} asked to be erased"),
)
ERASED = register(
    "user.erased",
    pgettext_lazy("audit event", "Person erased"),
    _("{actor} erased {target}: name, e-mail, devices and addresses replaced by a pseudonym"),
    without_actor=_(
        "{target} was erased by an operator: name, e-mail, devices and addresses replaced by a pseudonym"
    ),
)
PROFILE_UPDATED = register(
    "user.profile_updated",
    pgettext_lazy("audit event", "Profile changed"),
    _("{actor} changed their profile"),
)

# --- roles, scopes and the permission index (roles app) ---
ROLE_CREATED = register(
    "role.created", pgettext_lazy("audit event", "Role created"), _("{actor} created the role {target}")
)
ROLE_UPDATED = register(
    "role.updated", pgettext_lazy("audit event", "Role changed"), _("{actor} changed the role {target}")
)
ROLE_CLONED = register(
    "role.cloned",
    pgettext_lazy("audit event", "Role copied"),
    _("{actor} copied the role {source_role_id} as {target}"),
)
ROLE_DELETED = register(
    "role.deleted", pgettext_lazy("audit event", "Role deleted"), _("{actor} deleted the role {target}")
)
ASSIGNMENT_GRANTED = register(
    "assignment.granted",
    pgettext_lazy("audit event", "Role granted"),
    _("{actor} gave {target} the role {role_id}"),
)
ASSIGNMENT_REVOKED = register(
    "assignment.revoked",
    pgettext_lazy("audit event", "Role revoked"),
    _("{actor} took the role {role_id} from {target}"),
)
ASSIGNMENT_SCOPE_CHANGED = register(
    "assignment.scope_changed",
    pgettext_lazy("audit event", "Role scope changed"),
    _("{actor} changed where {target} holds the role {role_id}"),
)
STORE_ADDED = register(
    "store.added", pgettext_lazy("audit event", "Store added"), _("{actor} added the store {target}")
)
STORE_RENAMED = register(
    "store.renamed", pgettext_lazy("audit event", "Store renamed"), _("{actor} renamed the store {target}")
)
STORE_DEACTIVATED = register(
    "store.deactivated",
    pgettext_lazy("audit event", "Store deactivated"),
    _("{actor} deactivated the store {target}"),
)
WAREHOUSE_ADDED = register(
    "warehouse.added",
    pgettext_lazy("audit event", "Warehouse added"),
    _("{actor} added the warehouse {target} to the store {store_id}"),
)
WAREHOUSE_RENAMED = register(
    "warehouse.renamed",
    pgettext_lazy("audit event", "Warehouse renamed"),
    _("{actor} renamed the warehouse {target}"),
)
WAREHOUSE_KIND_CHANGED = register(
    "warehouse.kind_changed",
    pgettext_lazy("audit event", "Warehouse type changed"),
    _("{actor} made the warehouse {target} {kind}"),
)
ROLE_MAPPED_TO_CATALOG = register(
    "role.mapped_to_catalog",
    pgettext_lazy("audit event", "Role mapped onto the new permission catalog"),
    _("The permissions of the role {target} were split as the Ozon Seller cabinet splits them"),
    without_actor=_("The permissions of the role {target} were split as the Ozon Seller cabinet splits them"),
)
WAREHOUSE_DEACTIVATED = register(
    "warehouse.deactivated",
    pgettext_lazy("audit event", "Warehouse deactivated"),
    _("{actor} deactivated the warehouse {target}"),
)
PERMISSIONS_REPAIRED = register(
    "permissions.repaired",
    pgettext_lazy("audit event", "Permission index repaired"),
    _("The permission index was repaired to match the role assignments"),
)
TOKEN_CREATED = register(
    "token.created",
    pgettext_lazy("audit event", "API token created"),
    _("{actor} created the API token {token_id} for {target}"),
)
TOKEN_REVOKED = register(
    "token.revoked",
    pgettext_lazy("audit event", "API token revoked"),
    _("{actor} revoked the API token {token_id} of {target}"),
)
SERVICE_ACCOUNT_CREATED = register(
    "service_account.created",
    pgettext_lazy("audit event", "Service account created"),
    _("{actor} created the service account {target}"),
)

# --- bulk onboarding (onboarding app) ---
MEMBERS_IMPORTED = register(
    "members.imported",
    pgettext_lazy("audit event", "Sub-accounts imported"),
    _("{actor} started inviting {import_ready_rows} people from the spreadsheet {target}"),
)

# --- access reviews (reviews app) ---
REVIEW_OPENED = register("review.opened", _("Access review opened"), _("{actor} opened an access review"))
REVIEW_ITEM_DECIDED = register(
    "review.item_decided",
    _("Access review answered"),
    _("{actor} answered the access review for {target}: {decision}"),
)
REVIEW_POLICY_APPLIED = register(
    "review.policy_applied",
    _("Access review due-date policy applied"),
    _("At the due date, the access nobody answered for was dealt with: {policy}"),
)
REVIEW_CLOSED = register("review.closed", _("Access review closed"), _("{actor} closed the access review"))
