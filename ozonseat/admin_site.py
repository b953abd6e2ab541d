"""The Django admin behind the site's own sign-in: /admin/login/ sends people to the sign-in page (with its
throttling and second factor), and admin pages need a session whose sign-in used the second factor
(every staff member has to: accounts.two_factor.needs_second_factor)."""

from django.contrib import admin
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts import session_policy


class OzonSeatAdminSite(admin.AdminSite):
    def has_permission(self, request):
        return super().has_permission(request) and session_policy.second_factor_used(request)

    def login(self, request, extra_context=None):
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated:
            if not request.user.is_active or not request.user.is_staff:
                raise PermissionDenied
            # Staff signed in without the second factor (a session from before they became staff):
            # sign in again, completely.
            logout(request)
        return redirect_to_login(next_url, login_url=reverse("accounts:login"))
