"""The API's documentation pages (Swagger UI and Redoc, served from drf-spectacular's sidecar, no CDN).
Neither has inline script (the Content-Security-Policy allows none): Swagger UI is drf-spectacular's "split"
view, which serves its start-up script as a file at ?script."""

from django.http import HttpResponse
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


class _HtmlPageOptions:
    """OPTIONS on an HTML page: the methods it takes, in the Allow header, and no body. (DRF would render its
    metadata through the page's HTML renderer, which has no template for it: a 500.)"""

    def options(self, request, *args, **kwargs):
        response = HttpResponse()
        response["Allow"] = ", ".join(self.allowed_methods)
        return response


class SwaggerView(_HtmlPageOptions, SpectacularSwaggerSplitView):
    pass


class RedocView(_HtmlPageOptions, SpectacularRedocView):
    pass
