"""The API tokens page: own tokens for everyone, service accounts and their tokens for token managers;
a new secret is shown once and only its hash is stored."""

import pytest
from django.urls import reverse

from accounts.api_tokens import hash_api_token
from accounts.models import ApiToken, Membership, MembershipKind
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_member_creates_a_personal_token_and_sees_the_secret_once(client, world):
    client.force_login(world["clerk"].user)
    url = reverse("dashboard:tokens", args=[world["seller"].pk])
    response = client.post(url, {"form": "own_token", "own-name": "Picking app"})
    page = response.content.decode()
    token = ApiToken.objects.get(membership=world["clerk"], name="Picking app")
    secret = page.split('id="new-secret"')[1].split('value="')[1].split('"')[0]
    assert secret.startswith(token.prefix)
    assert token.token_hash == hash_api_token(secret) and secret not in token.token_hash
    assert AuditEvent.objects.filter(action="token.created", target_id=world["clerk"].pk).exists()
    assert secret not in client.get(url).content.decode()  # never shown again


def test_only_token_managers_add_service_accounts(client, world):
    url = reverse("dashboard:tokens", args=[world["seller"].pk])
    client.force_login(world["clerk"].user)
    assert client.post(url, {"form": "service_account", "service-name": "Bot"}).status_code == 403
    assert not Membership.objects.filter(kind=MembershipKind.SERVICE, user__display_name="Bot").exists()
    client.force_login(world["owner"].user)
    response = client.post(url, {"form": "service_account", "service-name": "Bot"}, follow=True)
    assert "Service account Bot added." in response.content.decode()
    assert Membership.objects.filter(kind=MembershipKind.SERVICE, user__display_name="Bot").exists()


def test_revoking_asks_first_and_a_member_cannot_revoke_anothers_token(client, world):
    token = world["service_token"]
    url = reverse("dashboard:tokens", args=[world["seller"].pk])
    client.force_login(world["clerk"].user)
    assert client.post(url, {"form": "revoke", "token": token.pk}).status_code == 403
    assert client.post(url, {"form": "revoke", "token": token.pk, "confirmed": "1"}).status_code == 403
    client.force_login(world["owner"].user)
    asked = client.post(url, {"form": "revoke", "token": token.pk}).content.decode()
    assert "are refused from their next request" in asked
    token.refresh_from_db()
    assert token.revoked_at is None
    client.post(url, {"form": "revoke", "token": token.pk, "confirmed": "1"})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="token.revoked").exists()


def test_a_token_of_another_seller_is_not_found(client, world):
    from accounts import api_tokens

    other = api_tokens.create_api_token(
        actor=world["other_owner"].user, membership=world["other_owner"], name="theirs"
    ).token
    client.force_login(world["owner"].user)
    url = reverse("dashboard:tokens", args=[world["seller"].pk])
    assert client.post(url, {"form": "revoke", "token": other.pk, "confirmed": "1"}).status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None
