"""A bearer-token request to /api/v1/ takes the short middleware chain (ozonseat/middleware.py): no session,
no CSRF cookie, no browser bookkeeping — and still the security headers, the language of its problem
details, the audit's request context, rate limits and 401/403 as before. Everything else (pages, the
dashboard's session-authenticated API calls) goes through the whole of MIDDLEWARE."""

from unittest import mock

import pytest
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory

from accounts import api_tokens
from audit.models import AuditEvent
from ozonseat.middleware import ApiCSPMiddleware, is_bearer_api_request
from tests.api.conftest import assert_problem, client_with, token_for, url
from tests.factories import make_member

pytestmark = [pytest.mark.django_db]

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def test_every_middleware_is_either_kept_or_skipped_for_bearer_api_requests_with_a_reason():
    assert settings.MIDDLEWARE[0] == "ozonseat.middleware.BearerApiMiddleware"
    kept, skipped = settings.API_BEARER_MIDDLEWARE, settings.API_BEARER_SKIPS
    assert not set(kept) & set(skipped)
    assert [m for m in settings.MIDDLEWARE if m not in kept and m not in skipped] == []
    assert all(reason for reason in skipped.values())
    for needed in (
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "audit.middleware.RequestContextMiddleware",
        "accounts.middleware.UserLanguageMiddleware",
    ):
        assert needed in kept and needed in settings.MIDDLEWARE


@pytest.mark.parametrize(
    ("path", "header", "bearer"),
    [
        ("/api/v1/ping", "Bearer ozs_x", True),
        ("/api/v1/ping", "bearer ozs_x", True),
        ("/api/v1/ping", "Bearer", True),  # malformed: the token authentication answers 401
        ("/api/v1/ping", "Bearer\tozs_x", True),
        ("/api/v1/ping", "Bearerx ozs_x", False),
        ("/api/v1/ping", "Basic abc", False),
        ("/api/v1/ping", "", False),
        ("/api/docs/", "Bearer ozs_x", False),  # HTML pages of the API keep the whole chain
        ("/dashboard/", "Bearer ozs_x", False),
    ],
)
def test_which_requests_take_the_bearer_chain(path, header, bearer):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    assert is_bearer_api_request(RequestFactory().get(path, **extra)) is bearer


def test_a_bearer_request_loads_no_session_sets_no_cookie_and_keeps_the_security_headers(
    client, owner, owner_membership
):
    client.force_login(owner)  # a session cookie is sent too: the token, not the session, is used
    secret = token_for(owner_membership)
    page = client.get("/api/v1/ping")  # the same browser without the token: the session answers
    assert page.status_code == 200 and page.json()["seller_id"] is None
    with mock.patch.object(SessionMiddleware, "process_request", autospec=True) as session_loaded:
        response = client.get("/api/v1/ping", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "seller_id": owner_membership.seller_id}
    assert session_loaded.call_count == 0
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    for name, value in SECURITY_HEADERS.items():
        assert response[name] == value, name
    assert response["Content-Security-Policy"] == page["Content-Security-Policy"]
    assert response["X-Request-ID"] and response["Content-Language"] == "en"


def test_a_session_request_to_the_api_still_goes_through_the_session_and_csrf(client, owner, seller):
    client.force_login(owner)
    with mock.patch.object(
        SessionMiddleware, "process_request", autospec=True, side_effect=SessionMiddleware.process_request
    ) as session_loaded:
        assert client.get("/api/v1/ping").status_code == 200
    assert session_loaded.call_count == 1
    client.handler.enforce_csrf_checks = True
    member = make_member(seller)
    # an unsafe method without the CSRF token is refused for a session (DRF's check), as before
    assert_problem(client.post(url(seller, f"members/{member.pk}/suspend")), 403)


def test_bearer_problem_details_are_translated_and_carry_the_request_id(client):
    response = client.get(
        "/api/v1/ping",
        HTTP_AUTHORIZATION="Bearer ozs_not-a-token",
        HTTP_ACCEPT_LANGUAGE="ru",
        HTTP_X_REQUEST_ID="req-42",
    )
    body = assert_problem(response, 401, "unauthenticated")
    assert response["Content-Language"] == "ru" and body["title"] != "Authentication required"
    assert body["request_id"] == "req-42" and response["X-Request-ID"] == "req-42"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not response.cookies
    malformed = client.get("/api/v1/ping", HTTP_AUTHORIZATION="Bearer")
    assert_problem(malformed, 401)


def test_a_bearer_write_is_audited_with_the_request_context(seller, owner_membership):
    member = make_member(seller)
    api = client_with(
        token_for(owner_membership),
        HTTP_X_REQUEST_ID="bearer-write-1",
        HTTP_USER_AGENT="inventory-sync/2.0",
        REMOTE_ADDR="198.51.100.7",
    )
    response = api.post(url(seller, f"members/{member.pk}/suspend"))
    assert response.status_code == 200 and response["X-Request-ID"] == "bearer-write-1"
    event = AuditEvent.objects.get(action="member.suspended", target_id=member.pk)
    assert event.request_id == "bearer-write-1"
    assert event.client_ip == "198.51.100.7" and event.client_agent == "inventory-sync/2.0"


def test_a_bearer_request_refused_for_a_permission_is_a_403_problem_and_audited(seller):
    member = make_member(seller)
    api = client_with(token_for(member), HTTP_X_REQUEST_ID="denied-1")
    assert_problem(api.post(url(seller, f"members/{member.pk}/suspend")), 403)
    assert AuditEvent.objects.filter(action="access.denied", request_id="denied-1").exists()


def test_content_negotiation_answers_as_drf_does(owner_api):
    for accept in (None, "*/*", "application/json"):
        headers = {"HTTP_ACCEPT": accept} if accept else {}
        response = owner_api.get("/api/v1/ping", **headers)
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert_problem(owner_api.get("/api/v1/ping", HTTP_ACCEPT="application/xml"), 406)
    assert_problem(owner_api.get("/api/v1/ping?format=xml"), 404)


def test_the_api_csp_is_the_sites_policy_and_follows_its_setting(settings):
    request = RequestFactory().get("/api/v1/ping")
    plain, api = CSPMiddleware(lambda r: None), ApiCSPMiddleware(lambda r: None)

    def header(middleware):
        from django.http import HttpResponse

        middleware.process_request(request)
        return middleware.process_response(request, HttpResponse())["Content-Security-Policy"]

    def parsed(value):
        return sorted(part.strip() for part in value.split(";"))

    assert parsed(header(api)) == parsed(header(plain))
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert header(api) == "default-src 'none'"


def test_token_instances_are_what_the_orm_loads(owner_membership):
    secret = token_for(owner_membership)
    token = api_tokens.authenticate_api_token(secret)
    loaded = type(token).objects.select_related("membership__user", "membership__seller").get(pk=token.pk)
    for mine, orm in (
        (token, loaded),
        (token.membership, loaded.membership),
        (token.membership.user, loaded.membership.user),
        (token.membership.seller, loaded.membership.seller),
    ):
        fields = [f.attname for f in type(orm)._meta.concrete_fields]
        assert {f: getattr(mine, f) for f in fields} == {f: getattr(orm, f) for f in fields}
        assert mine._state.adding is False and mine._state.db == orm._state.db
    token.membership.user.display_name = "Changed"
    token.membership.user.save(update_fields=["display_name"])  # a loaded instance saves as an update
    assert type(token.membership.user).objects.get(pk=token.membership.user_id).display_name == "Changed"
