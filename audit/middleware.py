import ipaddress
import uuid

from django.conf import settings

from .context import RequestContext, reset_context, set_context

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"


def client_ip(request) -> str | None:
    # Behind a reverse proxy REMOTE_ADDR is the proxy: CLIENT_IP_HEADER (e.g. HTTP_X_REAL_IP) names the header
    # the proxy sets. It is trusted only when configured, since any client can send such a header.
    header = settings.CLIENT_IP_HEADER
    value = (request.META.get(header, "") if header else "") or request.META.get("REMOTE_ADDR", "")
    value = value.split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.META.get(REQUEST_ID_HEADER, "")
        request_id = supplied[:64] if supplied.replace("-", "").isalnum() else uuid.uuid4().hex
        request.request_id = request_id
        token = set_context(
            RequestContext(
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
                request_id=request_id,
            )
        )
        try:
            response = self.get_response(request)
        finally:
            reset_context(token)
        response["X-Request-ID"] = request_id
        return response
