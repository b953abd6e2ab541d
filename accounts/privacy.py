"""A person's data: everything OzonSeat holds about them as one JSON document, and erasure for someone
who has left every seller.

Export finds the person's rows by introspection: every model with a foreign key to User or Membership
(so a table added later is included without a change here), the user row itself, and the audit events
about them (as actor, or as the user or membership an event is about). Secrets (password and token
hashes, two-factor secrets, session digests) are left out.

Erasure replaces name, e-mail, device and address details with a pseudonym and deletes sessions, tokens,
two-factor devices, recovery codes and old password hashes. Audit events stay (they name people by id);
their erasable client details (audit.AuditEvent.client_ip / client_agent) are cleared, and they read as
"former member #id". Each step is recorded."""

import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import events
from audit.models import AuditEvent, AuditPolicy
from audit.services import record_event
from ozonseat.errors import Conflict

from .models import ApiToken, BrowserSession, Invitation, Membership, MembershipStatus, PasswordHistory, User

FORMAT = "ozonseat-personal-data/1"
ERASED_DOMAIN = "erased.invalid"
SECRET_FIELDS = {
    "password",
    "token_hash",
    "code_hash",
    "password_hash",
    "encrypted_secret",
    "auth_digest",
    "session_stamp",
}


def pseudonym_email(user_id: int) -> str:
    return f"former-member-{user_id}@{ERASED_DOMAIN}"


def is_erased(email: str) -> bool:
    return (email or "").endswith(f"@{ERASED_DOMAIN}")


def former_member(identifier) -> str:
    return _("former member #%(id)s") % {"id": identifier}


# --- export ---------------------------------------------------------------------------------------


def _value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def _row(instance) -> dict:
    row = {}
    for field in instance._meta.concrete_fields:
        if field.name in SECRET_FIELDS:
            continue
        row[field.attname] = _value(getattr(instance, field.attname))
    return row


def person_tables() -> list[tuple[type[models.Model], list[models.Field]]]:
    """Every model with a foreign key (or one-to-one) to User or Membership, with those fields."""
    found = []
    for model in apps.get_models():
        if model in (User,):
            continue
        fields = [
            field
            for field in model._meta.concrete_fields
            if field.is_relation and field.related_model in (User, Membership)
        ]
        if fields:
            found.append((model, fields))
    return found


def _lookup(field, user, membership_ids):
    if field.related_model is User:
        return Q(**{field.attname: user.pk})
    return Q(**{f"{field.attname}__in": membership_ids})


def audit_events_about(user, membership_ids):
    return AuditEvent.objects.filter(
        Q(actor_user_id=user.pk)
        | Q(target_type="user", target_id=user.pk)
        | Q(target_type="membership", target_id__in=membership_ids)
    ).order_by("created_at", "id")


def export_person(user) -> dict:
    membership_ids = list(Membership.objects.filter(user=user).values_list("pk", flat=True))
    tables = {}
    for model, fields in person_tables():
        condition = Q()
        for field in fields:
            condition |= _lookup(field, user, membership_ids)
        rows = [_row(instance) for instance in model._default_manager.filter(condition).order_by("pk")]
        if rows:
            tables[model._meta.label_lower] = rows
    audit = [
        {
            "id": event.pk,
            "seller_id": event.seller_id,
            "sequence": event.sequence,
            "action": event.action,
            "actor_user_id": event.actor_user_id,
            "actor_token_id": event.actor_token_id,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "store_id": event.store_id,
            "changes": event.changes,
            "ip": event.shown_ip,
            "user_agent": event.shown_user_agent,
            "created_at": _value(event.created_at),
        }
        for event in audit_events_about(user, membership_ids).iterator(chunk_size=2000)
    ]
    return {
        "format": FORMAT,
        "exported_at": _value(timezone.now()),
        "user": _row(user),
        "tables": tables,
        "audit_events": audit,
    }


def export_json(*, actor, token=None) -> str:
    """The person's data as JSON, recorded as user.data_exported (in their own, global, log)."""
    with transaction.atomic():
        record_event(
            action=events.DATA_EXPORTED,
            actor=actor,
            target=actor,
            actor_token_id=getattr(token, "pk", None),
        )
    return json.dumps(export_person(actor), ensure_ascii=False, indent=1, default=str)


# --- erasure --------------------------------------------------------------------------------------


def may_be_erased(user) -> bool:
    """Only a person who has left every seller (every membership removed), and not staff."""
    if user.is_staff or user.is_superuser or is_erased(user.email):
        return False
    return not Membership.objects.filter(user=user).exclude(status=MembershipStatus.REMOVED).exists()


def request_erasure(*, user) -> None:
    """Self-service: the person asks, and is erased at once if they may be."""
    if not may_be_erased(user):
        raise Conflict(_("Only someone who has left every seller can be erased."), code="still_member")
    with transaction.atomic():
        record_event(action=events.ERASURE_REQUESTED, actor=user, target=user)
        erase_person(user=user, actor=user)


def _delete_django_sessions(user) -> int:
    removed = 0
    for session in Session.objects.iterator(chunk_size=500):
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            removed += 1
    return removed


def _forget_sign_in_attempts(email: str) -> None:
    """django-axes keeps the typed address, the client address and the device of each attempt."""
    for label in ("axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"):
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        model.objects.filter(username__iexact=email).delete()


def _clear_audit_client_details(user, membership_ids) -> int:
    """The one UPDATE the audit triggers allow: the erasable client details of the person's events."""
    ids = list(
        audit_events_about(user, membership_ids)
        .filter(Q(client_ip__isnull=False) | Q(client_agent__isnull=False))
        .values_list("pk", flat=True)
    )
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                "UPDATE audit_auditevent SET client_ip = NULL, client_agent = NULL "  # noqa: S608
                f"WHERE id IN ({placeholders})",
                chunk,
            )
    return len(ids)


def erase_person(*, user, actor=None) -> None:
    """Erase `user` (operator: actor None). Raises Conflict unless they have left every seller."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not may_be_erased(user):
            raise Conflict(_("Only someone who has left every seller can be erased."), code="still_member")
        old_email = user.email
        membership_ids = list(Membership.objects.filter(user=user).values_list("pk", flat=True))
        _delete_django_sessions(user)
        BrowserSession.objects.filter(user=user).delete()
        ApiToken.objects.filter(membership_id__in=membership_ids).delete()
        user.recovery_codes.all().delete()
        PasswordHistory.objects.filter(user=user).delete()
        apps.get_model("accounts", "TwoFactorDevice").objects.filter(user=user).delete()
        _forget_sign_in_attempts(old_email)
        Membership.objects.filter(pk__in=membership_ids).update(invited_name="", job_title="")
        Invitation.objects.filter(membership_id__in=membership_ids).update(email=pseudonym_email(user.pk))
        for policy in AuditPolicy.objects.exclude(digest_recipients=[]):
            if old_email in (policy.digest_recipients or []):
                policy.digest_recipients = [a for a in policy.digest_recipients if a != old_email]
                policy.save(update_fields=["digest_recipients"])
        _clear_audit_client_details(user, membership_ids)
        user.email = pseudonym_email(user.pk)
        user.display_name = ""
        user.email_verified_at = None
        user.is_active = False
        user.set_unusable_password()
        user.save()
        User.objects.filter(pk=user.pk).update(session_stamp=uuid.uuid4())
        record_event(action=events.ERASED, actor=actor, target=user)
