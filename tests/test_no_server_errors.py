"""No route answers 5xx, whoever calls it and however: every route of the URL configuration (API and
dashboard, from the isolation suite's table, so a new route is covered as soon as it is listed there) with
GET, HEAD, OPTIONS and every write method with an empty body, as an anonymous visitor, an outsider (the owner
of another seller), the owner, and a member holding each role template of the seller at the whole seller.

A server error is the one answer a caller can never act on: whatever is missing or refused must be a 4xx
that says so. Each route is one test; its failures list every (caller, method) that broke."""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from accounts import api_tokens
from accounts.models import InvitationKind, MembershipStatus
from roles import services as roles_services
from roles.models import Role
from roles.role_templates import TEMPLATES
from tests.factories import make_member, sent_invitation
from tests.test_isolation import ROUTES, all_routes, build_url, build_world

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
ANONYMOUS = "anonymous"
OUTSIDER = "outsider"
OWNER = "owner"
CALLERS = (ANONYMOUS, OUTSIDER, OWNER, *(f"template:{template.key}" for template in TEMPLATES))


def _routes() -> list[str]:
    installed = {name for name, _route, _pattern in all_routes()}
    return sorted(name for name in ROUTES if name in installed)


def _url(name: str, a) -> str:
    """The route's URL in seller A; the links e-mails carry are real, working ones."""
    if name == "accounts:accept_invitation":
        _invitation, token = sent_invitation(make_member(a.seller, status=MembershipStatus.INVITED))
        return reverse(name, kwargs={"token": token})
    if name == "accounts:confirm_email":
        pending = make_member(a.seller, status=MembershipStatus.INVITED)
        _invitation, token = sent_invitation(pending, kind=InvitationKind.SIGNUP)
        return reverse(name, kwargs={"token": token})
    if name == "accounts:password_reset_confirm":
        user = a.subject.user
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        return reverse(name, kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)})
    return build_url(name, a, a)


def _people(a, b) -> dict:
    """caller -> (user or None, membership or None): who signs in, and whose token the API gets."""
    people = {ANONYMOUS: (None, None), OUTSIDER: (b.owner.user, b.owner), OWNER: (a.owner.user, a.owner)}
    for template in TEMPLATES:
        member = make_member(a.seller)
        role = Role.objects.get(seller=a.seller, template_key=template.key)
        roles_services.grant_role(actor=a.owner.user, membership=member, role=role, scope_kind="seller")
        people[f"template:{template.key}"] = (member.user, member)
    return people


def _client(name: str, user, membership):
    if name.startswith("api:"):
        client = APIClient(raise_request_exception=True)
        if membership is not None:
            secret = api_tokens.create_api_token(actor=user, membership=membership, name="probe").secret
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client
    client = Client(raise_request_exception=True)
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("name", _routes())
def test_no_caller_and_no_method_gets_a_server_error(name):
    a, b = build_world("A"), build_world("B")
    url = _url(name, a)
    failures = []
    for caller, (user, membership) in _people(a, b).items():
        for method in (*SAFE_METHODS, *WRITE_METHODS):
            # A fresh client per request: an earlier write (sign-out, suspension of the caller's own
            # session) must not turn the next request into another caller's.
            client = _client(name, user, membership)
            try:
                if method in SAFE_METHODS:
                    response = client.generic(method, url)
                else:
                    response = client.generic(method, url, b"", content_type="application/json")
            except Exception as error:  # reported with the caller and the method
                failures.append(f"{caller} {method} {url}: {type(error).__name__}: {error}")
                continue
            if response.status_code >= 500:
                failures.append(f"{caller} {method} {url}: {response.status_code}")
    assert not failures, "\n".join(failures)
