"""The base API views. Every seller resource derives from `SellerView` (as Sentry's OrganizationEndpoint):
the seller comes from the URL, the caller's working membership and the view's permission are checked once,
and handlers use `self.seller` / `self.membership`. A seller that is not the caller's answers 404, exactly
like one that does not exist; a token works only in its own seller."""

from django.utils import translation
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer

from accounts.authorization import get_effective_membership, member_has_seller_permission
from accounts.middleware import browser_language
from accounts.models import ApiToken, Seller
from audit.services import record_denial

from . import problems
from .authentication import BearerTokenAuthentication, SessionAuthentication
from .negotiation import ApiContentNegotiation
from .parsers import LimitedJSONParser
from .throttling import IPRateThrottle, TokenRateThrottle, count_before_authentication


class ProblemJSONRenderer(JSONRenderer):
    media_type = problems.PROBLEM_CONTENT_TYPE


class ApiView(GenericAPIView):
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [LimitedJSONParser]
    renderer_classes = [JSONRenderer, ProblemJSONRenderer]
    throttle_classes = [TokenRateThrottle]
    content_negotiation_class = ApiContentNegotiation
    pagination_class = None

    def initial(self, request, *args, **kwargs):
        # An explicit Accept-Language wins over a session user's preference: a tool asks for its language.
        if request.META.get("HTTP_ACCEPT_LANGUAGE"):
            language = browser_language(request)
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        # The per-IP limit runs before authentication, so guessing tokens is limited too. The token's own
        # request is counted in the same round trip (see throttling).
        count_before_authentication(request, self)
        ip_throttle = IPRateThrottle()
        if not ip_throttle.allow_request(request, self):
            self.throttled(request, ip_throttle.wait())
        super().initial(request, *args, **kwargs)

    def get_authenticate_header(self, request):
        return BearerTokenAuthentication().authenticate_header(request)


class SellerView(ApiView):
    # `permission` (or `permissions` per HTTP method) names the seller permission the handler needs;
    # None means any working member of the seller. Services check again: this is the early, cheap answer.
    # No docstrings on this or any other base view: drf-spectacular would publish them as the description
    # of every operation without its own (each operation declares one in its extend_schema).

    permission: str | None = None
    permissions: dict[str, str | None] = {}

    def required_permission(self, method: str) -> str | None:
        return self.permissions.get(method, self.permission)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        seller_id = kwargs.get("seller_id")
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if token is not None:
            if token.membership.seller_id != seller_id:
                raise exceptions.NotFound()
            membership = token.membership
            seller = membership.seller
        else:
            seller = Seller.objects.filter(pk=seller_id).first()
            membership = get_effective_membership(request.user, seller) if seller else None
            if membership is None:
                raise exceptions.NotFound()
        permission = self.required_permission(request.method)
        if permission and not member_has_seller_permission(membership, permission):
            record_denial(request._request, seller=seller, status=403, permission=permission)
            raise exceptions.PermissionDenied()
        self.seller = seller
        self.membership = membership
        self.actor = membership.user
        self.token = token
