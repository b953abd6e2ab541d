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
    url = reverse("dashboard:token_revoke", args=[world["seller"].pk, token.pk])
    client.force_login(world["clerk"].user)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    client.force_login(world["owner"].user)
    assert "are refused from their next request" in client.get(url).content.decode()
    client.post(url)
    token.refresh_from_db()
    assert token.revoked_at is not None
