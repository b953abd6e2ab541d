"""Session lifetimes and a forced password change, enforced on the server for every request.

At sign-in the session records when it started, that the second factor was (or was not) used, and whether
the password has expired. On each request the middleware ends the session once it was idle longer than the
idle timeout or is older than the absolute lifetime — the strictest of the sellers the person works for,
re-read at most once a minute, together with the write of "last active" — and sends a person whose password
has expired to the page where they choose a new one before anything else."""

import time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from . import browser_sessions
from .policy import session_limits

STARTED_KEY = "_ozonseat_session_started"
SEEN_KEY = "_ozonseat_session_seen"
POLICY_KEY = "_ozonseat_session_policy"
SECOND_FACTOR_KEY = "_ozonseat_second_factor"
PASSWORD_EXPIRED_KEY = "_ozonseat_password_expired"
# "Last active" and the policy are refreshed at most this often (seconds), so a busy session is not
# written on every request.
RESOLUTION_SECONDS = 60

# Reachable while a new password is due: the page itself, signing out, the language switch.
PASSWORD_CHANGE_EXEMPT = ("accounts:password_change_required", "accounts:logout", "dashboard:set_language")


def on_user_logged_in(sender, request, user, **kwargs):
    if request is None or getattr(request, "session", None) is None:
        return
    from .password_policy import password_expired

    now = time.time()
    request.session[STARTED_KEY] = now
    request.session[SEEN_KEY] = now
    request.session[POLICY_KEY] = session_limits(user)
    request.session[PASSWORD_EXPIRED_KEY] = password_expired(user)


def mark_second_factor_used(request) -> None:
    """Called once the second factor was checked in this sign-in (the Django admin asks for it)."""
    request.session[SECOND_FACTOR_KEY] = True


def second_factor_used(request) -> bool:
    return bool(request.session.get(SECOND_FACTOR_KEY))


def password_changed(request) -> None:
    request.session.pop(PASSWORD_EXPIRED_KEY, None)


class SessionPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ended = self._enforce_lifetime(request, user)
            if ended is not None:
                return ended
            if request.session.get(PASSWORD_EXPIRED_KEY) and not self._exempt(request):
                return self._send_to(request, reverse("accounts:password_change_required"))
        return self.get_response(request)

    def _enforce_lifetime(self, request, user):
        session = request.session
        now = time.time()
        if STARTED_KEY not in session:  # a session from before these limits: they start now
            session[STARTED_KEY] = session[SEEN_KEY] = now
            session[POLICY_KEY] = session_limits(user)
        idle, age = session.get(POLICY_KEY) or session_limits(user)
        if now - session[STARTED_KEY] > age or now - session.get(SEEN_KEY, now) > idle:
            # Not a sign-out by the person: no logout event, the session simply ends.
            browser_sessions.end_current(request)
            session.flush()
            request.user = AnonymousUser()
            if request.path.startswith("/api/"):
                return None  # the API answers an anonymous request itself (401)
            messages.info(request, _("Your session has ended. Please sign in again."))
            login = reverse("accounts:login")
            return self._send_to(request, f"{login}?{urlencode({'next': request.get_full_path()})}")
        if now - session.get(SEEN_KEY, 0) >= RESOLUTION_SECONDS:
            session[SEEN_KEY] = now
            session[POLICY_KEY] = session_limits(user)
        return None

    @staticmethod
    def _exempt(request) -> bool:
        if request.path.startswith("/api/"):
            return True
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.view_name in PASSWORD_CHANGE_EXEMPT

    @staticmethod
    def _send_to(request, url):
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(url)
        return redirect(url)
