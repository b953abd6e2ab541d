"""One error shape everywhere under /api/: RFC 9457 problem details, and bad input is a 4xx, never a 500."""

import json

import pytest
from django.test import Client, override_settings

from accounts.models import Membership, User
from audit.models import AuditEvent
from tests.api.conftest import assert_problem, url

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def post_raw(api, path, body: bytes | str, content_type="application/json"):
    return api.generic("POST", path, body, content_type=content_type)


def test_validation_error_lists_fields(owner_api, seller):
    response = owner_api.post(url(seller, "members"), {"email": 5, "language": "xx"}, format="json")
    body = assert_problem(response, 400, "invalid")
    assert set(body["errors"]) == {"display_name", "language"} | (
        {"email"} if "email" in body["errors"] else set()
    )
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())
    assert body["instance"] == url(seller, "members")
    assert body["request_id"] == response["X-Request-ID"]


def test_service_validation_error_maps_to_400_with_field(owner_api, seller):
    response = owner_api.post(
        url(seller, "members"), {"email": "not-an-address", "display_name": "A"}, format="json"
    )
    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == ["email"]
    assert not User.objects.filter(email="not-an-address").exists()


def test_unknown_fields_are_refused_and_nothing_is_written(owner_api, seller):
    before = Membership.objects.count()
    response = owner_api.post(
        url(seller, "members"),
        {"email": "new@example.com", "display_name": "New", "is_owner": True, "kind": "owner"},
        format="json",
    )
    body = assert_problem(response, 400, "invalid")
    assert set(body["errors"]) == {"is_owner", "kind"}
    assert Membership.objects.count() == before
    assert not AuditEvent.objects.filter(action="member.invited").exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"email": ["a@example.com"], "display_name": "A"},
        {"email": {"x": 1}, "display_name": "A"},
        {"email": "a@example.com", "display_name": None},
        {"email": "a@example.com", "display_name": "A", "ends_at": "tomorrow"},
        {"email": "a@example.com", "display_name": "A", "ends_at": 12},
        {"email": "a@example.com", "display_name": "A" * 5000},
        [1, 2, 3],
        "just a string",
        123,
        None,
    ],
)
def test_wrong_types_are_400(owner_api, seller, payload):
    response = post_raw(owner_api, url(seller, "members"), json.dumps(payload))
    assert_problem(response, 400)
    assert not Membership.objects.filter(user__email="a@example.com").exists()


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"email": "a@example.com",}', b"\xff\xfe\x00garbage", b"NaN", b'{"a": NaN}', b"[" * 100000],
)
def test_malformed_json_is_400(owner_api, seller, raw):
    body = assert_problem(post_raw(owner_api, url(seller, "members"), raw), 400, "malformed")
    assert "errors" not in body


def test_huge_body_is_413(owner_api, seller, settings):
    settings.API_MAX_BODY_BYTES = 10_000
    payload = json.dumps({"email": "a@example.com", "display_name": "x" * 20_000})
    assert_problem(post_raw(owner_api, url(seller, "members"), payload), 413, "too-large")


def test_body_over_django_upload_limit_is_4xx(owner_api, seller, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = json.dumps({"email": "a@example.com", "display_name": "x" * 5000})
    response = post_raw(owner_api, url(seller, "members"), payload)
    assert_problem(response, 413)


def test_unsupported_media_type_is_415(owner_api, seller):
    response = owner_api.post(
        url(seller, "members"), "email=a@example.com", content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 415, "unsupported-media-type")
    response = post_raw(owner_api, url(seller, "members"), "<x/>", content_type="text/xml")
    assert_problem(response, 415)


def test_method_not_allowed_is_405_with_allow(owner_api, seller):
    response = owner_api.put(url(seller, "members"), {}, format="json")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response["Allow"] and "POST" in response["Allow"]


def test_unauthenticated_is_401(seller):
    response = Client().get(url(seller, "members"))
    assert_problem(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_forbidden_is_403(plain_api, seller):
    assert_problem(
        plain_api.post(
            url(seller, "members"), {"email": "a@example.com", "display_name": "A"}, format="json"
        ),
        403,
        "forbidden",
    )


def test_not_found_is_404_for_missing_foreign_and_unknown_urls(owner_api, seller, other_seller):
    other, other_owner = other_seller
    missing = assert_problem(owner_api.get(url(seller, "members/999999")), 404, "not-found")
    foreign = assert_problem(owner_api.get(url(seller, f"members/{other_owner.pk}")), 404, "not-found")
    assert missing["detail"] == foreign["detail"]
    assert_problem(owner_api.get(url(other, "members")), 404)
    assert_problem(owner_api.get("/api/v1/nothing-here"), 404)
    assert_problem(Client().get("/api/v1/sellers/abc/members"), 404)


def test_conflict_is_409_with_code(owner_api, seller, owner_membership):
    response = owner_api.post(
        url(seller, "members"), {"email": owner_membership.user.email, "display_name": "Me"}, format="json"
    )
    body = assert_problem(response, 409, "conflict")
    assert body["code"] == "already_member" and "email" in body["errors"]


@override_settings(ROOT_URLCONF="tests.api.crash_urls")
def test_server_error_is_500_problem_without_internals(db):
    response = Client(raise_request_exception=False).get("/api/v1/crash")
    body = assert_problem(response, 500, "server-error")
    assert "boom" not in response.content.decode()
    assert "Traceback" not in body["detail"]


@override_settings(ROOT_URLCONF="tests.api.crash_urls")
def test_dashboard_errors_stay_html(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/problem+json")


def test_accept_language_translates_messages(owner_api, seller):
    response = owner_api.post(url(seller, "members"), {}, format="json", HTTP_ACCEPT_LANGUAGE="ru")
    body = assert_problem(response, 400)
    assert response["Content-Language"] == "ru"
    assert body["errors"]["email"] == ["Обязательное поле."]
    english = owner_api.post(url(seller, "members"), {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["errors"]["email"] == ["This field is required."]


def test_csrf_is_enforced_for_session_writes(seller, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get(url(seller, "members")).status_code == 200
    response = client.post(
        url(seller, "members"),
        {"email": "a@example.com", "display_name": "A"},
        content_type="application/json",
    )
    assert_problem(response, 403)
    assert not Membership.objects.filter(user__email="a@example.com").exists()


def test_options_names_the_methods_and_points_to_the_schema(owner_api, seller):
    response = owner_api.options(url(seller, "tokens"))
    assert response.status_code == 200
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST", "OPTIONS"}
    body = response.json()
    assert body["methods"] == ["GET", "HEAD", "OPTIONS", "POST"]
    assert body["schema"].endswith("/api/schema/")
    assert "application/json" in body["parses"]


def test_options_on_the_documentation_pages_answers_their_methods():
    for path in ("/api/docs/", "/api/docs/redoc/"):
        response = Client().options(path)
        assert response.status_code == 200, path
        assert "GET" in response["Allow"], path
