"""400, 403 (a failed CSRF check), 404 and 500 outside DRF views: problem details on /api/ paths, the
site's own pages elsewhere."""

from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.views import defaults

from . import problems


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception=None):
    if _is_api(request):
        return problems.problem_json_response(request, problems.NOT_FOUND)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return problems.problem_json_response(request, problems.SERVER_ERROR)
    return defaults.server_error(request)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a translated page in the site's look instead of Django's bare "403 Forbidden".
    It usually means a form outlived its page (signed out or in again in another tab), or cookies are off."""
    if _is_api(request):
        return problems.problem_json_response(request, problems.FORBIDDEN)
    return render(request, "403_csrf.html", {"no_cookie": reason == REASON_NO_CSRF_COOKIE}, status=403)


def bad_request(request, exception=None):
    if _is_api(request):
        return problems.problem_json_response(request, problems.MALFORMED)
    return defaults.bad_request(request, exception)
