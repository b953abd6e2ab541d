"""Throttling of sign-in and password reset, on django-axes.

Every failed sign-in (a wrong password, a wrong second-factor code) and every password reset request is an
axes attempt, counted twice:

* per (account, address) pair: the first SIGN_IN_FREE_FAILURES are free, then each further failure makes
  the pair wait, 1 minute first and twice as long each time after, up to SIGN_IN_LONGEST_DELAY. The count
  is remembered for AXES_COOLOFF_TIME after the last failure and ends with a successful sign-in. An
  attacker elsewhere therefore locks only their own pairs: the owner, at their own address, still signs in.
* per address: more than SIGN_IN_ADDRESS_CEILING failures within SIGN_IN_ADDRESS_WINDOW, over any accounts,
  stop the address until enough of them have aged out of the window (password spraying).

While locked, the sign-in is refused before any password is checked (axes' backend comes first in
AUTHENTICATION_BACKENDS), the answer is 429 with Retry-After, and refused attempts do not extend the wait.
A lockout is recorded in the audit log once, when it begins, and the owner of an existing account is
e-mailed (at most once an hour). State lives in axes' database tables, shared by every web instance.
"""

import ipaddress
import math
from dataclasses import dataclass
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

from audit import events
from audit.middleware import client_ip
from audit.services import record_event

from .models import Membership, MembershipStatus, User, normalize_email

PASSWORD_RESET_PREFIX = "password-reset:"
ALERT_INTERVAL_SECONDS = 60 * 60

# What was being tried when a lockout began (kept in the audit event).
STEP_PASSWORD = "password"
STEP_TWO_FACTOR = "two_factor"
STEP_PASSWORD_RESET = "password_reset"


@dataclass(frozen=True)
class Lockout:
    retry_after: timedelta
    # "account": this account from this address; "address": every account from this address;
    # "second_factor": this person's second-factor codes, from any address; "password_reset": reset
    # e-mails for this address requested from this network.
    scope: str

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.retry_after.total_seconds()))

    def message(self) -> str:
        minutes = math.ceil(self.retry_after_seconds / 60)
        if self.scope == "address":
            return ngettext(
                "Too many failed attempts from your network. For everyone's safety, please try again in "
                "%(minutes)d minute.",
                "Too many failed attempts from your network. For everyone's safety, please try again in "
                "%(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes}
        if self.scope == "password_reset":
            return ngettext(
                "A reset link was already sent several times. Please check your inbox and spam folder, or "
                "try again in %(minutes)d minute.",
                "A reset link was already sent several times. Please check your inbox and spam folder, or "
                "try again in %(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes}
        if self.scope == "second_factor":
            return ngettext(
                "Too many wrong codes. For your safety, please try again in %(minutes)d minute.",
                "Too many wrong codes. For your safety, please try again in %(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes}
        return ngettext(
            "Too many failed attempts for this account. For your safety, please try again in %(minutes)d "
            "minute.",
            "Too many failed attempts for this account. For your safety, please try again in %(minutes)d "
            "minutes.",
            minutes,
        ) % {"minutes": minutes}


def delay_after(failures: int, free: int) -> timedelta | None:
    """The wait after this many remembered failures: none while they are free, then growing."""
    over = failures - free
    if over < 0:
        return None
    return min(settings.SIGN_IN_FIRST_DELAY * 2 ** min(over, 20), settings.SIGN_IN_LONGEST_DELAY)


# --- axes callables (named in settings) ---------------------------------------------------------------


def attempted_email(request, credentials) -> str | None:
    """The account an attempt is about: the typed address, normalised as the sign-in does."""
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email")
    if value is None and request is not None:
        value = getattr(request, "POST", {}).get("username")
    return normalize_email(value) or None


def attempt_address(request) -> str | None:
    """The client address the project trusts (audit.middleware.client_ip). An IPv6 client is counted by
    its /64 network, which one subscriber usually holds whole."""
    address = client_ip(request)
    if address and ":" in address:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return address


def lockout_response(request, original_response=None, credentials=None):
    """For AxesMiddleware: the sign-in pages answer a lockout themselves (429 with Retry-After, the form
    kept); anything else gets a plain page saying when to try again."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    lockout = getattr(request, "sign_in_lockout", None) or Lockout(settings.SIGN_IN_FIRST_DELAY, "account")
    response = render(request, "accounts/locked_out.html", {"message": lockout.message()}, status=429)
    response["Retry-After"] = str(lockout.retry_after_seconds)
    return response


# --- the handler --------------------------------------------------------------------------------------


class SignInThrottleHandler(AxesDatabaseHandler):
    """axes' database handler with two limits instead of one and growing delays (see the module)."""

    def is_locked(self, request, credentials=None) -> bool:
        lockout = self.lockout(request, credentials)
        request.sign_in_lockout = lockout
        return lockout is not None

    def lockout(self, request, credentials=None) -> Lockout | None:
        now = timezone.now()
        remembered = AccessAttempt.objects.filter(attempt_time__gte=now - settings.AXES_COOLOFF_TIME)
        waits = []
        username = get_client_username(request, credentials)
        address = request.axes_ip_address
        if username:
            pair = remembered.filter(username=username, ip_address=address).aggregate(
                failures=Sum("failures_since_start"), last=Max("attempt_time")
            )
            free = (
                settings.PASSWORD_RESET_FREE_REQUESTS
                if username.startswith(PASSWORD_RESET_PREFIX)
                else settings.SIGN_IN_FREE_FAILURES
            )
            delay = delay_after(pair["failures"] or 0, free)
            if delay is not None and pair["last"] + delay > now:
                scope = "password_reset" if username.startswith(PASSWORD_RESET_PREFIX) else "account"
                waits.append(Lockout(pair["last"] + delay - now, scope))
        if address:
            window_start = now - settings.SIGN_IN_ADDRESS_WINDOW
            recent = list(
                remembered.filter(ip_address=address, attempt_time__gte=window_start)
                .order_by("attempt_time")
                .values_list("attempt_time", "failures_since_start")
            )
            total = sum(failures for _at, failures in recent)
            # Locked until enough of the oldest attempts have left the window to go below the ceiling.
            for at, failures in recent:
                if total < settings.SIGN_IN_ADDRESS_CEILING:
                    break
                total -= failures
                waits.append(Lockout(at + settings.SIGN_IN_ADDRESS_WINDOW - now, "address"))
        return max(waits, key=lambda lockout: lockout.retry_after, default=None)

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if request is None:
            return
        refused_while_locked = request.axes_locked_out
        super().user_login_failed(sender, credentials, request, **kwargs)
        if refused_while_locked:
            request.axes_credentials = credentials
            return
        lockout = self.lockout(request, credentials)
        if lockout is not None:
            request.sign_in_lockout = lockout
            request.axes_locked_out = True
            request.axes_credentials = credentials
            _lockout_began(request, get_client_username(request, credentials), lockout)

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        # A successful sign-in ends the count of this account from this address (only of this pair: the
        # address's other failures still count towards its ceiling).
        AccessAttempt.objects.filter(
            username=normalize_email(user.get_username()), ip_address=request.axes_ip_address
        ).delete()


def _lockout_began(request, username: str | None, lockout: Lockout) -> None:
    step = getattr(request, "sign_in_step", STEP_PASSWORD)
    email = (username or "").removeprefix(PASSWORD_RESET_PREFIX)
    user = User.objects.filter(email__iexact=email).first() if email else None
    record_lockout(user=user, step=step, lockout=lockout)
    if user is not None and step != STEP_PASSWORD_RESET:
        queue_sign_in_alert(user, step=step, address=request.axes_ip_address)


def seller_ids_of(user) -> list[int | None]:
    """Where a person's sign-in events are recorded: every seller they work for (active or suspended, as
    for sign-ins), else the global log."""
    return [
        *Membership.objects.filter(
            user=user, status__in=[MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED]
        )
        .order_by("seller_id")
        .values_list("seller_id", flat=True)
    ] or [None]


def record_lockout(*, user: User | None, step: str, lockout: Lockout) -> None:
    """The audit event, in the log of every seller the person works for (the global log otherwise)."""
    with transaction.atomic():
        for seller_id in seller_ids_of(user) if user is not None else [None]:
            record_event(
                action=events.SIGN_IN_LOCKED,
                seller=seller_id,
                target_type="user" if user is not None else "",
                target_id=user.pk if user is not None else None,
                changes={
                    "step": [None, step],
                    "scope": [None, lockout.scope],
                    "retry_after_seconds": [None, lockout.retry_after_seconds],
                },
            )


def queue_sign_in_alert(user: User, *, step: str, address: str | None) -> None:
    """E-mail the person that sign-ins to their account are being refused, at most once an hour (the
    cache key is shared by every instance when the cache is Redis)."""
    from .emails import publish_task
    from .tasks import send_sign_in_alert_email

    if not cache.add(f"ozonseat:sign-in-alert:{user.pk}", 1, ALERT_INTERVAL_SECONDS):
        return
    at = timezone.now().isoformat()
    transaction.on_commit(lambda: publish_task(send_sign_in_alert_email, user.pk, step, address or "", at))


# --- for views that are not authenticate() calls: the second-factor step and password reset -----------


def sign_in_lockout(request, email: str) -> Lockout | None:
    """The lockout that applies to an attempt for this account from this request's address, if any."""
    if AxesProxyHandler.is_allowed(request, {"username": email}):
        return None
    request.axes_locked_out = True
    return request.sign_in_lockout


def count_failed_second_factor(request, user: User) -> Lockout | None:
    """A wrong second-factor code is a failed sign-in: Django's signal records it (audit log, axes)."""
    request.sign_in_step = STEP_TWO_FACTOR
    user_login_failed.send(sender=__name__, credentials={"username": user.email}, request=request)
    return getattr(request, "sign_in_lockout", None) if request.axes_locked_out else None


def password_reset_lockout(request, email: str) -> Lockout | None:
    """Refuse a reset request over the limit; otherwise count it (requests are attempts too)."""
    request.sign_in_step = STEP_PASSWORD_RESET
    credentials = {"username": PASSWORD_RESET_PREFIX + normalize_email(email)}
    if not AxesProxyHandler.is_allowed(request, credentials):
        request.axes_locked_out = True
        return request.sign_in_lockout
    AxesProxyHandler.user_login_failed(sender=__name__, credentials=credentials, request=request)
    # This request was within the limit and is answered as usual, even if it starts a pause for the next.
    request.axes_locked_out = False
    return None


def with_retry_after(response, lockout: Lockout):
    response.status_code = 429
    response["Retry-After"] = str(lockout.retry_after_seconds)
    return response
