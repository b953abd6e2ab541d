"""A seller's sign-in policy: password expiry and session lifetimes, with their limits. A person who works
for several sellers follows the strictest value of each (session_policy, password_policy)."""

from django.db.models import Min
from django.utils.translation import gettext as _

from ozonseat.errors import InvalidInput

from .models import Membership

# name -> (smallest, largest) allowed; password expiry also allows 0, "never".
SIGN_IN_POLICY_LIMITS = {
    "password_max_age_days": (30, 730),
    "session_idle_timeout_minutes": (5, 24 * 60),
    "session_max_age_hours": (1, 7 * 24),
}
SIGN_IN_POLICY_FIELDS = tuple(SIGN_IN_POLICY_LIMITS)
# Without any seller (or before one is joined): the defaults of a new seller.
DEFAULT_IDLE_MINUTES = 60
DEFAULT_MAX_AGE_HOURS = 12


def clean_sign_in_policy(values: dict) -> dict:
    unknown = set(values) - set(SIGN_IN_POLICY_FIELDS)
    if unknown:
        raise TypeError(f"Unknown sign-in policy fields: {sorted(unknown)}")
    cleaned = {}
    for name, value in values.items():
        low, high = SIGN_IN_POLICY_LIMITS[name]
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise InvalidInput(field=name, message=_("Enter a whole number.")) from None
        if name == "password_max_age_days" and value == 0:
            cleaned[name] = 0
            continue
        if not low <= value <= high:
            message = {
                "password_max_age_days": _("0 (never), or between 30 and 730 days."),
                "session_idle_timeout_minutes": _("Between 5 minutes and 24 hours (1440 minutes)."),
                "session_max_age_hours": _("Between 1 hour and 7 days (168 hours)."),
            }[name]
            raise InvalidInput(field=name, message=message)
        cleaned[name] = value
    if cleaned.get("session_idle_timeout_minutes", 0) > cleaned.get("session_max_age_hours", 10**6) * 60:
        raise InvalidInput(
            field="session_idle_timeout_minutes",
            message=_("The inactivity limit cannot be longer than the session itself."),
        )
    return cleaned


def session_limits(user) -> tuple[int, int]:
    """(idle seconds, absolute seconds): the strictest among the sellers the person works for."""
    limits = (
        Membership.objects.effective()
        .filter(user=user)
        .aggregate(idle=Min("seller__session_idle_timeout_minutes"), age=Min("seller__session_max_age_hours"))
    )
    return (limits["idle"] or DEFAULT_IDLE_MINUTES) * 60, (limits["age"] or DEFAULT_MAX_AGE_HOURS) * 3600
