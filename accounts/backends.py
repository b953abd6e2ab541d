from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend

from .cleaning import normalize_email
from .models import User


class EmailBackend(ModelBackend):
    """Sign in by e-mail, case-insensitively. Runs the hasher for unknown addresses too, so response time
    does not reveal which addresses have an account.

    `allow_unconfirmed=True` (asked for only by the sign-in form) also returns a user who signed up but has
    not confirmed the address yet, when the password is right: the form then says so instead of "wrong
    password". Every other caller gets None for them, as for any inactive user."""

    def authenticate(
        self, request, username=None, password=None, email=None, allow_unconfirmed=False, **kwargs
    ):
        email = normalize_email(email or username or kwargs.get(User.USERNAME_FIELD) or "")
        if not email or password is None:
            return None
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            User().set_password(password)
            return None
        if not user.check_password(password):
            return None
        if self.user_can_authenticate(user):
            return user
        if allow_unconfirmed and user.email_verified_at is None:
            return user
        return None


class SignInThrottleBackend(AxesStandaloneBackend):
    """axes' lockout check, first in AUTHENTICATION_BACKENDS. Every sign-in over HTTP passes its request;
    authenticate() without one (a shell, a management command) has no address to count and is let through
    to the next backend instead of failing."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
