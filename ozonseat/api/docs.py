"""The API's documentation pages (Swagger UI and Redoc, served from drf-spectacular's sidecar, no CDN)."""

from django.http import HttpResponse
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView


class _HtmlPageOptions:
    """OPTIONS on an HTML page: the methods it takes, in the Allow header, and no body. (DRF would render its
    metadata through the page's HTML renderer, which has no template for it: a 500.)"""

    def options(self, request, *args, **kwargs):
        response = HttpResponse()
        response["Allow"] = ", ".join(self.allowed_methods)
        return response


class SwaggerView(_HtmlPageOptions, SpectacularSwaggerView):
    pass


class RedocView(_HtmlPageOptions, SpectacularRedocView):
    pass
