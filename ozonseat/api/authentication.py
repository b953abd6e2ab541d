"""Who is calling: a bearer API token (tools) or the browser session with CSRF (the dashboard's own calls)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts.api_tokens import authenticate_api_token
from accounts.models import MembershipKind
from audit.context import update_context

from .exceptions import TwoFactorRequired


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer ozs_…`. The request acts as the token's membership, in its seller only.
    A revoked or expired token, or one whose membership is no longer working, answers 401 at once; a
    person's token in a seller that requires two-factor sign-in they have not set up answers 403."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the header as: Authorization: Bearer <token>."))
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from None
        token = authenticate_api_token(secret)
        if token is None:
            raise exceptions.AuthenticationFailed(
                _("The token is not valid, has expired or was revoked, or its account no longer has access.")
            )
        update_context(token_id=token.pk)
        membership = token.membership
        # A person's token is held to the seller's two-factor rule like their browser is (service accounts
        # are programs: they have no second factor and are not asked).
        if (
            membership.seller.require_two_factor
            and membership.kind != MembershipKind.SERVICE
            and not token.two_factor_confirmed  # read in the token's own query
        ):
            raise TwoFactorRequired()
        return membership.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The signed-in browser session; unsafe methods need the CSRF token, as in DRF."""
