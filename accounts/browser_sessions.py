"""Browser sessions: one `BrowserSession` row per sign-in, so an owner sees where a person is signed in and
can sign them out everywhere, and a person sees their own devices.

Django's session store stays the authority on whether a session works; the row mirrors it. The session
holds the row's id (never the other way round: the session key is not stored anywhere else). A row counts
as open while it has not ended, its `auth_digest` still matches the user's current session auth hash (so
"sign out everywhere", which changes the user's session stamp, and a password change both close every row
at once), and it was active within the session lifetime."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.middleware import client_ip

from .models import BrowserSession, User
from .policy import session_limits

SESSION_KEY = "_ozonseat_browser_session"
# "Last active" is written at most this often per session (a cache key marks the recent write).
SEEN_RESOLUTION = timedelta(minutes=5)


def auth_digest(user: User) -> str:
    return hashlib.sha256(user.get_session_auth_hash().encode()).hexdigest()


def open_sessions(user: User) -> list[BrowserSession]:
    """The user's sessions that may still work, most recently active first (two queries): within the idle
    timeout and the lifetime of the strictest seller the person works for (accounts.session_policy)."""
    idle, age = session_limits(user)
    now = timezone.now()
    return list(
        BrowserSession.objects.filter(
            user=user,
            ended_at__isnull=True,
            auth_digest=auth_digest(user),
            # "last active" is written at most every SEEN_RESOLUTION: allow for that much staleness.
            last_seen_at__gt=now - timedelta(seconds=idle) - SEEN_RESOLUTION,
            created_at__gt=now - timedelta(seconds=age),
        ).order_by("-last_seen_at", "-pk")
    )


def other_open_sessions(user: User, current_session_id: int | None) -> list[BrowserSession]:
    """The user's open sessions but the one of this request."""
    return [session for session in open_sessions(user) if session.pk != current_session_id]


def current_session_id(request) -> int | None:
    session = getattr(request, "session", None)
    value = session.get(SESSION_KEY) if session is not None else None
    return value if isinstance(value, int) else None


def describe_device(user_agent: str) -> str:
    """ "Chrome 120 · Windows 10" from a User-Agent header; the header itself when it cannot be parsed."""
    from ua_parser import parse

    result = parse(user_agent or "")
    parts = []
    if result.user_agent is not None:
        parts.append(" ".join(filter(None, (result.user_agent.family, result.user_agent.major))))
    if result.os is not None:
        parts.append(" ".join(filter(None, (result.os.family, result.os.major))))
    if parts:
        return " · ".join(parts)
    return user_agent[:60] or _("Unknown device")


def end_all(user_ids) -> None:
    """Mark every row of these users ended (called with the session stamp change that really ends them)."""
    BrowserSession.objects.filter(user_id__in=user_ids, ended_at__isnull=True).update(ended_at=timezone.now())


def end_current(request) -> None:
    """The session of this request ends without a sign-out (its time limit was reached)."""
    session_id = current_session_id(request)
    if session_id is not None:
        BrowserSession.objects.filter(pk=session_id, ended_at__isnull=True).update(ended_at=timezone.now())


def keep_current(request, user: User) -> None:
    """After `update_session_auth_hash` (own password change, signing out other devices): the current
    session goes on, so its row follows the new auth hash."""
    session_id = current_session_id(request)
    if session_id is not None:
        BrowserSession.objects.filter(pk=session_id, user=user).update(
            auth_digest=auth_digest(user), ended_at=None
        )


def forget_old(now=None) -> int:
    """Delete rows of sessions that ended, or were last active, more than BROWSER_SESSION_RETENTION ago
    (the sign-ins themselves stay in the audit log)."""
    cutoff = (now or timezone.now()) - settings.BROWSER_SESSION_RETENTION
    deleted, _by_model = (
        BrowserSession.objects.filter(last_seen_at__lt=cutoff)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__lt=cutoff))
        .delete()
    )
    return deleted


# --- signal receivers and middleware ------------------------------------------------------------------


def on_user_logged_in(sender, request, user, **kwargs):
    if request is None or getattr(request, "session", None) is None:
        return
    record = BrowserSession.objects.create(
        user=user,
        auth_digest=auth_digest(user),
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )
    request.session[SESSION_KEY] = record.pk
    cache.set(_seen_key(record.pk), 1, SEEN_RESOLUTION.total_seconds())


def on_user_logged_out(sender, request, user, **kwargs):
    session_id = current_session_id(request)
    if session_id is not None and user is not None:
        BrowserSession.objects.filter(pk=session_id, user=user, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )


def _seen_key(session_id: int) -> str:
    return f"ozonseat:browser-session-seen:{session_id}"


class BrowserSessionMiddleware:
    """Keeps "last active" of the signed-in session's row, writing at most once per SEEN_RESOLUTION. It
    never modifies the session itself, so a session's lifetime is what Django's settings say."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session_id = current_session_id(request)
        if (
            session_id is not None
            and request.user.is_authenticated
            and cache.add(_seen_key(session_id), 1, SEEN_RESOLUTION.total_seconds())
        ):
            BrowserSession.objects.filter(pk=session_id, user=request.user, ended_at__isnull=True).update(
                last_seen_at=timezone.now()
            )
        return response
