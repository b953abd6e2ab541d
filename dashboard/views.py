"""Dashboard pages that are not about one app's objects: overview, my access, profile, language."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from accounts import services
from accounts.decorators import seller_view
from accounts.forms import ChangePasswordForm, ProfileForm, apply_service_error
from ozonseat.errors import InvalidInput

from . import selectors


@seller_view()
def overview(request, *, seller, membership):
    return render(
        request,
        "dashboard/overview.html",
        {
            "by_status": selectors.members_by_status(seller),
            "by_role": selectors.members_by_role(seller),
            "pending": selectors.pending_invitations(seller),
            "inactive": selectors.inactive_members(seller),
            "activity": selectors.recent_activity(seller, limit=10),
            "inactive_days": selectors.INACTIVE_AFTER.days,
        },
    )


@seller_view()
def my_access(request, *, seller, membership):
    return render(
        request, "dashboard/my_access.html", {"target": membership, **selectors.my_access(membership)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    which = request.POST.get("form") if request.method == "POST" else None
    profile_form = ProfileForm(
        request.POST if which == "profile" else None,
        initial={"display_name": user.display_name, "preferred_language": user.preferred_language},
    )
    password_form = ChangePasswordForm(request.POST if which == "password" else None)
    if which == "profile" and profile_form.is_valid():
        try:
            services.update_profile(actor=user, **profile_form.cleaned_data)
        except InvalidInput as error:
            apply_service_error(profile_form, error)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("dashboard:profile")
    elif which == "password" and password_form.is_valid():
        try:
            user = services.change_password(
                user=user,
                old_password=password_form.cleaned_data["old_password"],
                new_password=password_form.cleaned_data["new_password1"],
            )
        except InvalidInput as error:
            apply_service_error(password_form, error)
        else:
            # Other sessions end with the old password; this one continues.
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password is changed. Other devices were signed out."))
            return redirect("dashboard:profile")
    if which in ("profile", "password") and request.method == "POST":
        messages.error(request, _("Please correct the errors below."))
    return render(
        request, "dashboard/profile.html", {"profile_form": profile_form, "password_form": password_form}
    )


@require_POST
def set_language(request):
    """Django's set_language (cookie), plus the signed-in person's saved preference."""
    language = request.POST.get("language", "")
    response = django_set_language(request)
    if request.user.is_authenticated:
        try:
            services.set_preferred_language(actor=request.user, language=language)
        except InvalidInput:
            messages.error(request, _("Choose one of the offered languages."))
    return response
