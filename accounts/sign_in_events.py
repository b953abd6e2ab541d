"""Sign-ins, failed sign-ins and sign-outs, recorded from Django's auth signals.

These receivers only record what happened; they hold no business rule. A sign-in event lands in the log of
every seller the person works for (active or suspended), so each seller's log shows its people's sign-ins
without one seller seeing another; a person with no seller goes to the global log. Neither the typed address
nor the password is ever stored: a failure for an existing address references the user by id, one for an
unknown address references nothing.

They live in accounts (which knows people and their sellers) and write through audit's `record_event`,
below it; accounts' AppConfig.ready connects them."""

from django.core.cache import cache
from django.db import transaction

from audit import events
from audit.context import get_context
from audit.services import DENIAL_WINDOW_SECONDS, DENIALS_PER_WINDOW, record_event

from .models import Membership, MembershipStatus, User, normalize_email


def _seller_ids_of(user_id: int) -> list[int | None]:
    seller_ids = list(
        Membership.objects.filter(
            user_id=user_id, status__in=[MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED]
        )
        .order_by("seller_id")
        .values_list("seller_id", flat=True)
    )
    return seller_ids or [None]


def _record_for_user(action: str, user_id: int, *, actor: bool) -> None:
    with transaction.atomic():
        for seller_id in _seller_ids_of(user_id):
            record_event(
                action=action,
                seller=seller_id,
                actor=user_id if actor else None,
                target_type="user",
                target_id=user_id,
            )


def on_user_logged_in(sender, request, user, **kwargs):
    _record_for_user(events.LOGIN, user.pk, actor=True)


def on_user_logged_out(sender, request, user, **kwargs):
    if user is not None and user.pk is not None:
        _record_for_user(events.LOGOUT, user.pk, actor=True)


def _unknown_address_budget_left() -> bool:
    key = f"audit:login-failed-unknown:{get_context().ip or ''}"
    if cache.add(key, 1, DENIAL_WINDOW_SECONDS):
        return True
    try:
        return cache.incr(key) <= DENIALS_PER_WINDOW
    except ValueError:
        return cache.add(key, 1, DENIAL_WINDOW_SECONDS)


def on_user_login_failed(sender, credentials, request=None, **kwargs):
    address = normalize_email(credentials.get("username") or credentials.get("email") or "")
    user_id = (
        User.objects.filter(email__iexact=address).values_list("pk", flat=True).first() if address else None
    )
    if user_id is not None:
        _record_for_user(events.LOGIN_FAILED, user_id, actor=False)
    elif _unknown_address_budget_left():
        # A scanner trying random addresses fills no log: the rest within the window are dropped.
        with transaction.atomic():
            record_event(action=events.LOGIN_FAILED, seller=None)


def connect():
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    user_logged_in.connect(on_user_logged_in, dispatch_uid="audit.login")
    user_logged_out.connect(on_user_logged_out, dispatch_uid="audit.logout")
    user_login_failed.connect(on_user_login_failed, dispatch_uid="audit.login_failed")
