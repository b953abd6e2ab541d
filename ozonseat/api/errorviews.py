"""404 and 500 for /api/ paths outside DRF views (unknown URLs, crashes) as problem details."""

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


def bad_request(request, exception=None):
    if _is_api(request):
        return problems.problem_json_response(request, problems.MALFORMED)
    return defaults.bad_request(request, exception)
