"""The second sign-in step: enrol an authenticator app, or enter its code. Both work only on a pending login
left by the password step (accounts.two_factor)."""

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import two_factor
from .forms import TwoFactorCodeForm


def _pending_or_restart(request):
    found = two_factor.pending_login(request)
    if found is None:
        messages.error(request, _("Your sign-in has expired. Please sign in again."))
    return found


def _wrong_code(request, form):
    attempts_left = two_factor.count_failed_attempt(request)
    if attempts_left <= 0:
        two_factor.clear_pending_login(request)
        messages.error(request, _("Too many wrong codes. Please sign in again."))
        return redirect("accounts:login")
    form.add_error(
        "code", _("This code is not correct. Check the time on your phone and enter the newest code.")
    )
    return None


def _complete(request, user, pending):
    two_factor.clear_pending_login(request)
    auth_login(request, user, backend=pending["backend"])
    return redirect(pending["next"])


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
    if request.method == "POST" and form.is_valid():
        if two_factor.confirm_enrolment(user=user, code=form.cleaned_data["code"]):
            messages.success(request, _("Two-factor sign-in is set up."))
            return _complete(request, user, pending)
        restart = _wrong_code(request, form)
        if restart is not None:
            return restart
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "secret": secret,
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "provisioning_uri": two_factor.provisioning_uri(user, secret),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    found = _pending_or_restart(request)
    if found is None:
        return redirect("accounts:login")
    user, pending = found
    if two_factor.confirmed_device(user) is None:
        return redirect("accounts:two_factor_setup")
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.verify_code(user=user, code=form.cleaned_data["code"]):
            return _complete(request, user, pending)
        restart = _wrong_code(request, form)
        if restart is not None:
            return restart
    return render(request, "accounts/two_factor_verify.html", {"form": form})
