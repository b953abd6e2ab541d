"""A request to the JSON API that carries a bearer token goes through a short middleware chain of its own.

A tool calling `/api/v1/…` with `Authorization: Bearer …` is authenticated by its token (DRF's
`BearerTokenAuthentication` either accepts it or answers 401/403; the session is never consulted), so the
browser's middleware has nothing to do for it: no session to load, no CSRF cookie (DRF checks CSRF itself,
for session-authenticated calls only), no session user, browser-session bookkeeping, session policy,
messages, htmx or sign-in lockout. `BearerApiMiddleware`, first in `MIDDLEWARE`, sends such a request
through `settings.API_BEARER_MIDDLEWARE` instead: the security headers (SecurityMiddleware, the same
Content-Security-Policy, X-Frame-Options), CommonMiddleware, the language (problem details are translated)
and the audit's request context (request id, client IP). Every other request, including the dashboard's
own session-authenticated API calls, goes through the whole of `MIDDLEWARE` as before.

Which middleware a bearer API request skips is decided in settings, one by one
(`tests/test_bearer_api_middleware.py` fails on a middleware that is in neither list)."""

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.utils.module_loading import import_string

API_PREFIX = "/api/v1/"


def is_bearer_api_request(request) -> bool:
    """An `/api/v1/` request whose Authorization header names the Bearer scheme (whatever follows: a
    malformed or unknown token is answered by the token authentication, 401)."""
    if not request.path_info.startswith(API_PREFIX):
        return False
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return header[:6].lower() == "bearer" and (len(header) == 6 or header[6].isspace())


class _Chain(BaseHandler):
    """A middleware chain ending in the view, built like Django's own (BaseHandler.load_middleware, the
    synchronous part) from a list of its own. The middleware of this chain may hook only requests and
    responses: a process_view, process_exception or process_template_response is refused at start-up."""

    def __init__(self, middleware_paths):
        super().__init__()
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(middleware_paths):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            hooks = [
                name
                for name in ("process_view", "process_exception", "process_template_response")
                if hasattr(instance, name)
            ]
            if hooks:
                raise ImproperlyConfigured(f"{path} has {', '.join(hooks)}: not supported in the API chain")
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


class BearerApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.bearer_api_chain = _Chain(settings.API_BEARER_MIDDLEWARE)._middleware_chain

    def __call__(self, request):
        if is_bearer_api_request(request):
            # No session user: DRF authenticates the token and sets request.user itself. Until then, code
            # that asks (an error before authentication) sees an anonymous visitor.
            request.user = AnonymousUser()
            return self.bearer_api_chain(request)
        return self.get_response(request)


class ApiCSPMiddleware(CSPMiddleware):
    """The site's Content-Security-Policy on API answers, the same header, built once per policy setting
    instead of once per response. Anything that makes a response's policy its own (a decorator's update
    or replacement, a nonce used, excluded prefixes, DEBUG's exemptions) takes django-csp's own way."""

    _OWN = (
        "_csp_config",
        "_csp_update",
        "_csp_replace",
        "_csp_config_ro",
        "_csp_update_ro",
        "_csp_replace_ro",
    )

    def __init__(self, get_response):
        super().__init__(get_response)
        self._built = (None, None, None)  # (the settings they were built from, policy, report-only policy)

    def _policies(self):
        config = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        config_ro = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        source = (config, config_ro, settings.DEBUG)
        built = self._built
        if built[0] is None or any(a is not b for a, b in zip(built[0], source, strict=True)):
            plain = not settings.DEBUG and not any(
                (policy or {}).get("EXCLUDE_URL_PREFIXES") for policy in (config, config_ro)
            )
            built = self._built = (
                source,
                build_policy() if plain else None,
                build_policy(report_only=True) if plain else None,
            )
        return built[1], built[2]

    def process_response(self, request, response):
        policy, policy_ro = self._policies()
        if (
            policy is None
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in self._OWN)
        ):
            return super().process_response(request, response)
        if policy and HEADER not in response and not getattr(response, "_csp_exempt", False):
            response[HEADER] = policy
        if (
            policy_ro
            and HEADER_REPORT_ONLY not in response
            and not getattr(response, "_csp_exempt_ro", False)
        ):
            response[HEADER_REPORT_ONLY] = policy_ro
        # as django-csp does: a nonce asked for after the header was written is an error, not a silent gap
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
