"""Content negotiation without the parsing for what nearly every API call sends: no Accept header, `*/*` or
`application/json`, and no `?format=`. Those get the view's first renderer (JSON), exactly what DRF's own
negotiation answers for them; anything else (problem+json asked for, an unacceptable type → 406) goes
through DRF's negotiation as before."""

from rest_framework.negotiation import DefaultContentNegotiation

_PLAIN_ACCEPT = frozenset(["", "*/*", "application/json"])


class ApiContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if (
            format_suffix is None
            and renderers
            and renderers[0].media_type == "application/json"
            and request.META.get("HTTP_ACCEPT", "") in _PLAIN_ACCEPT
            and not (
                request.META.get("QUERY_STRING")
                and request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
            )
        ):
            return renderers[0], "application/json"
        return super().select_renderer(request, renderers, format_suffix)
