"""Password history and the optional expiry policy.

Every password set is remembered (its hash) so the next ones cannot repeat the last few
(validators.PasswordReuseValidator). A seller may ask for passwords to be changed every N days — off by
default, as NIST SP 800-63B advises against forced rotation. A person working for several sellers follows
the strictest. They are reminded by e-mail REMINDER_AHEAD before, once per password, and once it has
expired they must choose a new one at their next sign-in (session_policy)."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from audit import events
from audit.services import record_event

from .models import Membership, PasswordHistory, User
from .validators import REMEMBERED_PASSWORDS

REMINDER_AHEAD = timedelta(days=7)


def remember_password(user: User) -> None:
    """Call in the transaction that saved a new password: keeps its hash and the time it was set."""
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(password_changed_at=now)
    user.password_changed_at = now
    PasswordHistory.objects.create(user=user, password_hash=user.password, created_at=now)
    keep = (
        PasswordHistory.objects.filter(user=user)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)[:REMEMBERED_PASSWORDS]
    )
    PasswordHistory.objects.filter(user=user).exclude(pk__in=list(keep)).delete()


def password_max_age(user: User) -> timedelta | None:
    """The strictest rotation policy among the sellers the person works for; None when none asks."""
    days = (
        Membership.objects.effective()
        .filter(user=user, seller__password_max_age_days__gt=0)
        .aggregate(days=Min("seller__password_max_age_days"))["days"]
    )
    return timedelta(days=days) if days else None


def password_set_at(user: User):
    return user.password_changed_at or user.date_joined


def password_expires_at(user: User):
    max_age = password_max_age(user)
    if max_age is None or not user.has_usable_password():
        return None
    return password_set_at(user) + max_age


def password_expired(user: User, now=None) -> bool:
    expires_at = password_expires_at(user)
    return expires_at is not None and expires_at <= (now or timezone.now())


def remind_expiring_passwords(*, now=None) -> int:
    """The beat job: e-mail everyone whose password expires within REMINDER_AHEAD, once per password. The
    mark and the audit event are written in the transaction that holds the person's row lock while the
    message is sent, so a concurrent run or a retry never sends it twice (a failed send rolls back and is
    tried at the next run)."""
    from .emails import send_password_expiry_reminder

    now = now or timezone.now()
    candidates = (
        Membership.objects.effective(now)
        .filter(seller__password_max_age_days__gt=0, user__is_active=True)
        .values_list("user_id", flat=True)
        .distinct()
    )
    sent = 0
    for user_id in list(candidates[:5000]):
        with transaction.atomic():
            user = (
                User.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("last_seller")
                .filter(pk=user_id)
                .first()
            )
            if user is None or user.password_reminder_sent_for == password_set_at(user):
                continue
            expires_at = password_expires_at(user)
            if expires_at is None or not now < expires_at <= now + REMINDER_AHEAD:
                continue
            user.password_reminder_sent_for = password_set_at(user)
            user.save(update_fields=["password_reminder_sent_for"])
            for seller_id in _seller_ids(user):
                record_event(
                    action=events.PASSWORD_EXPIRY_REMINDED,
                    seller=seller_id,
                    target=user,
                    changes={"expires_at": [None, expires_at]},
                )
            send_password_expiry_reminder(user, expires_at=expires_at)
            sent += 1
    return sent


def _seller_ids(user: User) -> list[int]:
    return list(
        Membership.objects.effective()
        .filter(user=user, seller__password_max_age_days__gt=0)
        .order_by("seller_id")
        .values_list("seller_id", flat=True)
    )
