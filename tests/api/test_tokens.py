from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import api_tokens, services
from accounts.api_tokens import hash_api_token
from accounts.models import ApiToken, MembershipKind, MembershipStatus
from audit.models import AuditEvent
from ozonseat.errors import NotAllowed
from tests.api.conftest import assert_problem, client_with, token_for, url
from tests.factories import make_member

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_created_token_secret_is_shown_once_and_only_its_hash_is_stored(owner_api, seller, owner_membership):
    response = owner_api.post(url(seller, "tokens"), {"name": "ERP"}, format="json")
    assert response.status_code == 201
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("ozs_") and len(secret) > 40
    assert body["prefix"] == secret[:12]
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(pk=body["id"])
    assert token.token_hash == hash_api_token(secret)
    stored = [str(value) for value in ApiToken.objects.filter(pk=token.pk).values().first().values()]
    assert secret not in stored
    # never again: neither the list nor the detail shows it
    listed = owner_api.get(url(seller, "tokens")).json()
    detail = owner_api.get(url(seller, f"tokens/{token.pk}")).json()
    assert all("secret" not in item for item in listed) and "secret" not in detail
    assert secret not in str(listed) + str(detail)
    event = AuditEvent.objects.get(
        action="token.created", seller_id=seller.pk, changes__token_id=[None, token.pk]
    )
    assert secret not in str(event.changes)
    assert client_with(secret).get("/api/v1/ping").json() == {"ok": True, "seller_id": seller.pk}


def test_expired_token_is_refused_with_401(seller, owner_membership):
    secret = token_for(owner_membership, expires_at=timezone.now() + timedelta(hours=1))
    api = client_with(secret)
    assert api.get("/api/v1/ping").status_code == 200
    ApiToken.objects.filter(token_hash=hash_api_token(secret)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    body = assert_problem(api.get("/api/v1/ping"), 401, "unauthenticated")
    assert "Bearer" in api.get("/api/v1/ping")["WWW-Authenticate"]
    assert body["instance"] == "/api/v1/ping"


def test_revoked_token_stops_on_the_next_request(owner_api, seller, owner_membership, plain_member):
    secret = token_for(plain_member)
    api = client_with(secret)
    assert api.get(url(seller, "members")).status_code == 200
    token = ApiToken.objects.get(token_hash=hash_api_token(secret))
    response = owner_api.delete(url(seller, f"tokens/{token.pk}"))
    assert response.status_code == 204, response.content
    assert_problem(api.get(url(seller, "members")), 401)
    assert AuditEvent.objects.filter(action="token.revoked", target_id=plain_member.pk).exists()
    assert_problem(owner_api.delete(url(seller, f"tokens/{token.pk}")), 409, "conflict")


@pytest.mark.parametrize("end", ["suspend", "remove", "ends_at"])
def test_suspended_removed_or_ended_membership_token_stops_at_once(seller, owner, plain_member, end):
    api = client_with(token_for(plain_member))
    assert api.get("/api/v1/me").status_code == 200
    if end == "suspend":
        services.suspend_member(actor=owner, membership=plain_member)
    elif end == "remove":
        services.remove_member(actor=owner, membership=plain_member)
    else:
        type(plain_member).objects.filter(pk=plain_member.pk).update(
            ends_at=timezone.now() - timedelta(seconds=1)
        )
    assert_problem(api.get("/api/v1/me"), 401, "unauthenticated")
    assert_problem(api.get(url(seller, "members")), 401)


def test_reactivated_member_token_works_again(seller, owner, plain_member):
    api = client_with(token_for(plain_member))
    services.suspend_member(actor=owner, membership=plain_member)
    assert api.get("/api/v1/me").status_code == 401
    services.reactivate_member(actor=owner, membership=plain_member)
    assert api.get("/api/v1/me").status_code == 200


def test_unknown_or_garbled_token_is_401(db):
    for header in ["Bearer ozs_nope", "Bearer", "Bearer a b", "Bearer " + "x" * 500, "Bearer ozs_\u00e9"]:
        response = client_with(HTTP_AUTHORIZATION=header).get("/api/v1/me")
        assert_problem(response, 401)
    assert_problem(client_with().get("/api/v1/me"), 401)


def test_last_used_is_written_at_most_once_a_minute_with_a_conditional_update(seller, owner_membership):
    secret = token_for(owner_membership)
    api = client_with(secret)
    token = ApiToken.objects.get(token_hash=hash_api_token(secret))
    assert token.last_used_at is None

    def updates_during_request():
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/v1/ping").status_code == 200
        return [
            q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "accounts_apitoken" in q["sql"]
        ]

    first = updates_during_request()
    assert len(first) == 1 and "last_used_at" in first[0] and "WHERE" in first[0]
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert updates_during_request() == []  # within the minute: no write at all
    assert updates_during_request() == []
    # a minute later (moved in the database, not by waiting), one write again
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=token.last_used_at - timedelta(seconds=61))
    assert len(updates_during_request()) == 1


def test_conditional_update_writes_once_between_concurrent_requests(seller, owner_membership):
    secret = token_for(owner_membership)
    token = ApiToken.objects.get(token_hash=hash_api_token(secret))
    stale_copy = ApiToken.objects.get(pk=token.pk)
    now = timezone.now()
    assert api_tokens.touch_last_used(token, now) is True
    # a second request that loaded the token before the first wrote sees the fresh value in the WHERE
    assert api_tokens.touch_last_used(stale_copy, now) is False


def test_token_acts_only_in_its_own_seller(seller, owner_membership, other_seller):
    other, _other_owner = other_seller
    api = client_with(token_for(owner_membership))
    assert_problem(api.get(url(other, "members")), 404, "not-found")
    # even when the person is also a member there: the token belongs to one membership
    make_member(other, user=owner_membership.user)
    assert_problem(api.get(url(other, "members")), 404)
    assert api.get("/api/v1/me").json()["memberships"][0]["seller_id"] == seller.pk
    assert len(api.get("/api/v1/me").json()["memberships"]) == 1


def test_service_account_has_no_password_nor_deliverable_address_and_works_with_a_token(owner_api, seller):
    response = owner_api.post(url(seller, "service-accounts"), {"name": "Picking app"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == MembershipKind.SERVICE and body["status"] == MembershipStatus.ACTIVE
    assert body["user"]["email"].endswith(".invalid")
    from accounts.models import Membership

    membership = Membership.objects.get(pk=body["id"])
    assert not membership.user.has_usable_password()
    assert AuditEvent.objects.filter(action="service_account.created", target_id=membership.pk).exists()
    created = owner_api.post(
        url(seller, "tokens"), {"name": "picker", "membership_id": membership.pk}, format="json"
    )
    assert created.status_code == 201, created.content
    service_api = client_with(created.json()["secret"])
    me = service_api.get("/api/v1/me").json()
    assert me["user"]["id"] == membership.user_id and me["memberships"][0]["kind"] == "service"
    # tokens for another person's membership are refused
    person = make_member(seller)
    assert_problem(
        owner_api.post(url(seller, "tokens"), {"name": "x", "membership_id": person.pk}, format="json"), 403
    )


def test_member_without_tokens_manage_cannot_create_service_accounts_or_see_others_tokens(
    seller, owner_membership, plain_member, plain_api
):
    assert_problem(
        plain_api.post(url(seller, "service-accounts"), {"name": "x"}, format="json"), 403, "forbidden"
    )
    owner_secret = token_for(owner_membership)
    owner_token = ApiToken.objects.get(token_hash=hash_api_token(owner_secret))
    ids = [item["id"] for item in plain_api.get(url(seller, "tokens")).json()]
    assert owner_token.pk not in ids
    assert_problem(plain_api.get(url(seller, f"tokens/{owner_token.pk}")), 404)
    assert_problem(plain_api.delete(url(seller, f"tokens/{owner_token.pk}")), 404)
    with pytest.raises(NotAllowed):
        api_tokens.revoke_api_token(actor=plain_member.user, token=owner_token)
    # a personal token of its own is fine
    assert plain_api.post(url(seller, "tokens"), {"name": "mine"}, format="json").status_code == 201


def test_token_audit_events_carry_the_token_id(owner_api, seller, owner_membership):
    secret = token_for(owner_membership)
    token = ApiToken.objects.get(token_hash=hash_api_token(secret))
    response = client_with(secret).post(
        url(seller, "members"), {"email": "a@example.com", "display_name": "A"}, format="json"
    )
    assert response.status_code == 201, response.content
    event = AuditEvent.objects.get(action="member.invited", target_id=response.json()["id"])
    assert event.actor_token_id == token.pk and event.actor_user_id == owner_membership.user_id
