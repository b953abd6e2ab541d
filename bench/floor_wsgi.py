"""The WSGI application of bench/api_floor.py: the real app, plus the two floors it is measured against.

`/__bench/hello` is a bare WSGI "hello" (no Django at all); `/__bench/minimal` is the smallest Django view,
behind the same middleware as every other route. Everything else goes to OzonSeat's own URLs. Used by the
benchmark only: never deployed, never in ozonseat.urls."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ozonseat.settings")

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import JsonResponse
from django.urls import include, path

django_application = get_wsgi_application()


def minimal(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("__bench/minimal", minimal),
    path("", include("ozonseat.urls")),
]
handler400 = "ozonseat.api.errorviews.bad_request"
handler404 = "ozonseat.api.errorviews.page_not_found"
handler500 = "ozonseat.api.errorviews.server_error"
settings.ROOT_URLCONF = __name__

HELLO = b'{"ok":true}'


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/__bench/hello":
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(HELLO)))])
        return [HELLO]
    return django_application(environ, start_response)
