"""Two-factor pages. At sign-in: enrol an authenticator app, or enter its code (or a recovery code), on the
pending login left by the password step (accounts.two_factor). On the profile: enrol without being asked,
and replace the recovery codes. Recovery codes are shown once, on the response that made them."""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import session_policy, sign_in_throttle, two_factor
from .forms import TwoFactorCodeForm

WRONG_CODE = gettext_lazy("This code is not correct. Check the time on your phone and enter the newest code.")


def _pending_or_restart(request):
    found = two_factor.pending_login(request)
    if found is None:
        messages.error(request, _("Your sign-in has expired. Please sign in again."))
    return found


def _locked(request, template, context, lockout):
    context["form"].add_error(None, lockout.message())
    return sign_in_throttle.with_retry_after(render(request, template, context), lockout)


def _complete(request, user, pending):
    two_factor.clear_pending_login(request)
    auth_login(request, user, backend=pending["backend"])
    session_policy.mark_second_factor_used(request)


def _setup_context(user, secret, form):
    uri = two_factor.provisioning_uri(user, secret)
    return {
        "form": form,
        "secret": secret,
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "provisioning_uri": uri,
        "qr_code": two_factor.qr_code_svg(uri),
    }


def _recovery_codes_page(request, codes, *, continue_url):
    text = two_factor.recovery_codes_file(codes)
    return render(
        request,
        "accounts/recovery_codes.html",
        {
            "codes": codes,
            "download_href": "data:text/plain;charset=utf-8," + quote(text),
            "continue_url": continue_url,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    found = _pending_or_restart(request)
    if found is None:
        return redirect("accounts:login")
    user, pending = found
    if two_factor.confirmed_device(user) is not None:
        return redirect("accounts:two_factor_verify")
    secret = two_factor.start_enrolment(user=user)
    form = TwoFactorCodeForm(request.POST or None)
    context = _setup_context(user, secret, form)
    template = "accounts/two_factor_setup.html"
    lockout = sign_in_throttle.sign_in_lockout(request, user.email)
    if lockout is not None and request.method == "POST":
        return _locked(request, template, context, lockout)
    if request.method == "POST" and form.is_valid():
        if two_factor.confirm_enrolment(user=user, code=form.cleaned_data["code"]):
            _complete(request, user, pending)
            messages.success(request, _("Two-factor sign-in is set up."))
            codes = two_factor.generate_recovery_codes(user=user)
            return _recovery_codes_page(request, codes, continue_url=pending["next"])
        lockout = sign_in_throttle.count_failed_second_factor(request, user)
        if lockout is not None:
            return _locked(request, template, context, lockout)
        form.add_error("code", WRONG_CODE)
    return render(request, template, context)


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    found = _pending_or_restart(request)
    if found is None:
        return redirect("accounts:login")
    user, pending = found
    if two_factor.confirmed_device(user) is None:
        return redirect("accounts:two_factor_setup")
    form = TwoFactorCodeForm(request.POST or None, allow_recovery=True)
    template = "accounts/two_factor_verify.html"
    context = {"form": form}
    lockout = sign_in_throttle.sign_in_lockout(request, user.email)
    if lockout is not None and request.method == "POST":
        return _locked(request, template, context, lockout)
    if request.method == "POST" and form.is_valid():
        check = two_factor.verify_code(user=user, code=form.cleaned_data["code"])
        if check.accepted:
            _complete(request, user, pending)
            if check.recovery_code:
                left = two_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    _(
                        "You signed in with a recovery code. %(count)d are left: make new ones on your "
                        "profile."
                    )
                    % {"count": left},
                )
            return redirect(pending["next"])
        lockout = sign_in_throttle.count_failed_second_factor(request, user) if check.checked else None
        waits = [wait for wait in (lockout, check.wait) if wait is not None]
        if waits:
            return _locked(request, template, context, max(waits, key=lambda wait: wait.retry_after))
        form.add_error("code", WRONG_CODE)
    return render(request, template, context)


# --- from the profile -------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile_two_factor_setup(request):
    """Anyone may set up two-factor sign-in, whether or not a seller requires it."""
    user = request.user
    if two_factor.confirmed_device(user) is not None:
        return redirect("dashboard:profile")
    secret = two_factor.start_enrolment(user=user)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.confirm_enrolment(user=user, code=form.cleaned_data["code"]):
            session_policy.mark_second_factor_used(request)
            messages.success(request, _("Two-factor sign-in is set up."))
            codes = two_factor.generate_recovery_codes(user=user)
            return _recovery_codes_page(request, codes, continue_url=None)
        form.add_error("code", WRONG_CODE)
    return render(
        request,
        "accounts/two_factor_setup.html",
        {**_setup_context(user, secret, form), "from_profile": True},
    )


@never_cache
@login_required
@require_POST
def regenerate_recovery_codes(request):
    """New codes replace the old ones; asks for a current authenticator code first (a signed-in browser
    left open must not be enough)."""
    user = request.user
    if two_factor.confirmed_device(user) is None:
        return redirect("dashboard:profile")
    form = TwoFactorCodeForm(request.POST)
    if form.is_valid():
        check = two_factor.verify_code(user=user, code=form.cleaned_data["code"])
        if check.accepted:
            return _recovery_codes_page(
                request, two_factor.generate_recovery_codes(user=user), continue_url=None
            )
        messages.error(request, check.wait.message() if check.wait is not None else WRONG_CODE)
    else:
        messages.error(request, _("Enter the 6 digits shown by your authenticator app."))
    return redirect("dashboard:profile")
