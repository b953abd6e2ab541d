"""The privacy notice, and a person's own data: download it, or ask to be erased. Thin views over
accounts/privacy.py."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ozonseat.errors import Conflict

from . import privacy


def notice(request):
    return render(request, "accounts/privacy_notice.html")


def json_download(body: str, user) -> HttpResponse:
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="ozonseat-my-data-{user.pk}-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def export(request):
    return json_download(privacy.export_json(actor=request.user), request.user)


@login_required
@require_http_methods(["GET", "POST"])
def erase(request):
    user = request.user
    eligible = privacy.may_be_erased(user)
    error = ""
    if request.method == "POST" and eligible:
        if not user.check_password(request.POST.get("password", "")):
            error = _("The password is not right.")
        else:
            try:
                privacy.request_erasure(user=user)
            except Conflict as conflict:
                error = str(conflict.message)
            else:
                logout(request)
                messages.success(request, _("You were erased. What OzonSeat keeps is described below."))
                return redirect("privacy:notice")
    status = 400 if error else (409 if request.method == "POST" else 200)
    return render(
        request, "accounts/privacy_erase.html", {"eligible": eligible, "error": error}, status=status
    )
