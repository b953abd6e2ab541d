"""Forms validate shape; services enforce the rules. Service errors are put back on the form."""

import re

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from ozonseat.errors import InvalidInput, ServiceError

from . import time_zones
from .cleaning import normalize_email, validate_visible
from .models import Language, ReviewDuePolicy


def apply_service_error(form: forms.Form, error: ServiceError) -> None:
    if isinstance(error, InvalidInput) and error.errors:
        for field, messages in error.errors.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(error.field if error.field in form.fields else None, str(error.message))


class TimeZoneField(forms.ChoiceField):
    """Time zones grouped by country and region, named in the reader's language (accounts/time_zones.py).
    Any zone of the tz database is valid, so a zone stored before the list knew it is kept, not replaced."""

    def __init__(self, **kwargs):
        super().__init__(choices=time_zones.time_zone_choices, **kwargs)

    def valid_value(self, value):
        return time_zones.is_time_zone(value)

    def keep(self, current: str) -> None:
        """Offer the current zone even when the list has no line for it (shown by its IANA name)."""
        if current and not time_zones.offered(current) and time_zones.is_time_zone(current):
            self.choices = [(current, current), *time_zones.time_zone_choices()]


class EmailAddressField(forms.EmailField):
    """An address in the one form it is stored and looked up in (accounts.cleaning): a full-width address
    validates as the plain one it stands for; one with an invisible character is refused, not matched
    to a look-alike. The services clean it again: this is for the form's own errors, and for sign-in and
    password reset, which reach no service."""

    def to_python(self, value):
        value = super().to_python(value)
        validate_visible(value)
        return normalize_email(value)


class EmailAuthenticationForm(AuthenticationForm):
    username = EmailAddressField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        "invalid_login": _("The e-mail address or password is not correct."),
        "inactive": _("This account is not active yet. Confirm your e-mail address first."),
        "unconfirmed": _(
            "Your e-mail address is not confirmed yet. Open the link in the e-mail we sent when you signed "
            "up, or have a new one sent."
        ),
    }

    def clean(self):
        # The backend returns a user whose address is not confirmed only when the password is right
        # (allow_unconfirmed), after the same single password check as for everyone: so "not confirmed yet"
        # tells nothing to someone who does not know the password, neither by its text nor by its timing.
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is not None and password:
            self.user_cache = authenticate(
                self.request, username=username, password=password, allow_unconfirmed=True
            )
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def confirm_login_allowed(self, user):
        if not user.is_active and user.email_verified_at is None:
            self.unconfirmed_user = user
            raise forms.ValidationError(self.error_messages["unconfirmed"], code="unconfirmed")
        super().confirm_login_allowed(user)


class SignUpForm(forms.Form):
    seller_name = forms.CharField(label=_("Business name"), max_length=150)
    display_name = forms.CharField(label=_("Your name"), max_length=150)
    email = EmailAddressField(label=_("E-mail"), max_length=254)
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=Language.choices,
        help_text=_("Of the e-mails and pages for you, and the default for your staff."),
    )
    time_zone = TimeZoneField(label=_("Time zone"))

    def __init__(self, *args, language: str = Language.ENGLISH, **kwargs):
        """`language`: the one the page is shown in (browser, language switcher): the new seller's default."""
        super().__init__(*args, **kwargs)
        if language not in Language.values:
            language = Language.ENGLISH
        self.fields["language"].initial = language
        self.fields["time_zone"].initial = time_zones.default_time_zone(language)
        if not self.is_bound:  # the browser knows where it is: static/js/ozonseat.js picks that zone
            self.fields["time_zone"].widget.attrs["data-detect-time-zone"] = ""


class InviteMemberForm(forms.Form):
    email = EmailAddressField(label=_("E-mail"), max_length=254)
    display_name = forms.CharField(label=_("Name"), max_length=150)
    job_title = forms.CharField(label=_("Job title"), max_length=100, required=False)
    language = forms.ChoiceField(
        label=_("Language of the e-mail"),
        choices=[("", _("Seller default")), *Language.choices],
        required=False,
    )
    ends_at = forms.DateTimeField(
        label=_("Access ends"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Optional, for seasonal staff and contractors."),
    )


class EditMemberForm(forms.Form):
    job_title = forms.CharField(label=_("Job title"), max_length=100, required=False)
    ends_at = forms.DateTimeField(
        label=_("Access ends"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class AcceptInvitationForm(forms.Form):
    display_name = forms.CharField(label=_("Your name"), max_length=150)
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters."),
    )
    password_again = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class SellerSettingsForm(forms.Form):
    name = forms.CharField(label=_("Business name"), max_length=150)
    default_language = forms.ChoiceField(label=_("Default language"), choices=Language.choices)
    time_zone = TimeZoneField(label=_("Time zone"))
    invitation_lifetime_hours = forms.IntegerField(
        label=_("Invitation links expire after (hours)"), min_value=1, max_value=720
    )
    require_two_factor = forms.BooleanField(label=_("Require two-factor sign-in"), required=False)
    access_review_interval_days = forms.IntegerField(
        label=_("Review access every (days)"), min_value=7, max_value=366
    )
    # Left out of a submitted form (an older client), these keep their value.
    access_review_length_days = forms.IntegerField(
        label=_("Reviewers answer within (days)"), min_value=7, max_value=90, required=False
    )
    access_review_due_policy = forms.TypedChoiceField(
        label=_("Access nobody answered for at the due date"),
        choices=ReviewDuePolicy.choices,
        required=False,
        empty_value=None,
    )
    session_idle_timeout_minutes = forms.IntegerField(
        required=False,
        label=_("Sign out after inactivity (minutes)"),
        min_value=5,
        max_value=24 * 60,
        help_text=_("5 minutes to 24 hours. Shorter is safer on shared computers."),
    )
    session_max_age_hours = forms.IntegerField(
        required=False,
        label=_("Sign out after (hours) in any case"),
        min_value=1,
        max_value=7 * 24,
        help_text=_("1 hour to 7 days, however active the person is."),
    )
    password_max_age_days = forms.IntegerField(
        required=False,
        label=_("Passwords expire after (days)"),
        min_value=0,
        max_value=730,
        help_text=_(
            "0: never (recommended). NIST SP 800-63B advises against forced changes: people then pick "
            "weaker passwords that follow a pattern. Use it only if a rule you must follow asks for it; "
            "otherwise a strong password and two-factor sign-in protect better."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].keep(self.initial.get("time_zone", ""))


class TransferOwnershipForm(forms.Form):
    new_owner = forms.TypedChoiceField(label=_("New owner"), coerce=int)
    confirm = forms.BooleanField(label=_("I understand that I will no longer be the owner."))

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_owner"].choices = [(m.pk, f"{m.display_name} <{m.user.email}>") for m in candidates]


class TwoFactorCodeForm(forms.Form):
    """A code from the authenticator app; with `allow_recovery`, a recovery code as well."""

    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=24,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "size": 12}
        ),
    )

    def __init__(self, *args, allow_recovery=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.allow_recovery = allow_recovery
        if allow_recovery:
            self.fields["code"].label = _("Code from your authenticator app, or a recovery code")
            self.fields["code"].widget.attrs["inputmode"] = "text"

    def clean_code(self):
        from .two_factor import RECOVERY_ALPHABET, RECOVERY_CODE_LENGTH

        code = "".join(self.cleaned_data["code"].split())
        if re.fullmatch(r"\d{6}", code):
            return code
        recovery = code.lower().replace("-", "")
        if (
            self.allow_recovery
            and len(recovery) == RECOVERY_CODE_LENGTH
            and all(ch in RECOVERY_ALPHABET for ch in recovery)
        ):
            return recovery
        if self.allow_recovery:
            raise forms.ValidationError(
                _("Enter the 6 digits shown by your authenticator app, or one of your recovery codes.")
            )
        raise forms.ValidationError(_("Enter the 6 digits shown by your authenticator app."))


class QueuedPasswordResetForm(PasswordResetForm):
    """Queues the e-mail as a task that builds the link in the worker; answers the same either way."""

    email = EmailAddressField(
        label=_("E-mail"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def save(self, **kwargs):
        from django.db import transaction

        from .emails import publish_task
        from .tasks import send_password_reset_email

        for user in self.get_users(self.cleaned_data["email"]):
            transaction.on_commit(lambda user_id=user.pk: publish_task(send_password_reset_email, user_id))


class AuditedSetPasswordForm(SetPasswordForm):
    def save(self, commit=True):
        from .services import reset_password

        return reset_password(user=self.user, password=self.cleaned_data["new_password1"])


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Name"), max_length=150)
    preferred_language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("Same as my browser")), *Language.choices],
        required=False,
        help_text=_("The language of the pages and of the e-mails OzonSeat sends you."),
    )


class ChangePasswordForm(forms.Form):
    old_password = forms.CharField(
        label=_("Current password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password1 = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters."),
    )
    new_password2 = forms.CharField(
        label=_("New password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two passwords differ."))
        return data


def access_form_class():
    """The role-and-scope part of "add sub-account" (the roles app's grant form, with "no role yet")."""
    from roles.forms import GrantForm

    class InviteAccessForm(GrantForm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # The invitation form has its own end date: it wins over a role's default limit.
            self.fields.pop("ends_at", None)
            role = self.fields["role"]
            role.required = False
            role.empty_value = None
            role.choices = [("", _("No role yet")), *role.choices]
            role.help_text = _("More roles can be given on the sub-account's page.")
            scope_kind = self.fields["scope_kind"]
            scope_kind.required = False
            scope_kind.choices = [("", "—"), *scope_kind.choices]

        def clean(self):
            data = super().clean()
            if data.get("role") and not data.get("scope_kind"):
                self.add_error("scope_kind", _("Choose where the role applies."))
            scoped = any(data.get(name) for name in ("scope_kind", "market", "stores", "warehouses"))
            if not data.get("role") and scoped:
                # A scope without a role gives nothing: the invitation would go out with no access at all.
                self.add_error(
                    "role",
                    _(
                        "You chose where access applies but no role. Choose the role to give there, or "
                        "choose “No role yet” and clear the scope."
                    ),
                )
            return data

        def grants(self) -> list[dict]:
            data = self.cleaned_data
            if not data.get("role"):
                return []
            return [
                {
                    "role_id": data["role"],
                    "scope_kind": data["scope_kind"],
                    "market": data.get("market") or None,
                    "stores": data.get("stores") or [],
                    "warehouses": data.get("warehouses") or [],
                }
            ]

    return InviteAccessForm


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"), max_length=100, help_text=_("What uses it, e.g. “Picking app, Khimki”.")
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: until revoked."),
    )

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        if accounts:
            self.fields["account"] = forms.TypedChoiceField(
                label=_("For"), coerce=int, choices=[(a.pk, a.display_name) for a in accounts]
            )
            self.order_fields(["account", "name", "expires_at"])


class ServiceAccountForm(forms.Form):
    name = forms.CharField(label=_("Name of the program"), max_length=150)
    description = forms.CharField(label=_("Description"), max_length=100, required=False)
