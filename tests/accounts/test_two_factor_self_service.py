"""Two-factor sign-in for everyone: enrolment from the profile with a server-drawn QR code, ten single-use
recovery codes stored hashed, shown once and downloadable, regenerated (audited); replayed codes refused;
person tokens refused when their seller requires two-factor sign-in they have not set up."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pyotp
import pytest
import time_machine
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import api_tokens, two_factor
from accounts.models import RecoveryCode, TwoFactorDevice
from audit.models import AuditEvent
from tests.factories import DEFAULT_PASSWORD, make_member

pytestmark = [pytest.mark.django_db]

PROFILE = reverse("dashboard:profile")
ENROL = reverse("accounts:two_factor_enrol")
CODES = reverse("accounts:recovery_codes")
VERIFY = reverse("accounts:two_factor_verify")
START = datetime(2030, 5, 6, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def secret_on(page) -> str:
    match = re.search(r'<code id="two-factor-secret"[^>]*>([A-Z2-7 ]+)</code>', page.content.decode())
    assert match, page.content.decode()
    return match.group(1).replace(" ", "")


def codes_on(page) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page.content.decode())


def enrol_from_profile(client, clock) -> tuple[str, list[str]]:
    page = client.get(ENROL)
    secret = secret_on(page)
    response = client.post(ENROL, {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    clock.shift(timedelta(seconds=30))  # the next code belongs to the next time step
    return secret, codes_on(response)


def sign_in(client, user):
    return client.post(reverse("accounts:login"), {"username": user.email, "password": DEFAULT_PASSWORD})


def test_anyone_enrols_from_their_profile_with_a_qr_code_beside_the_key(clock, client, seller):
    person = make_member(seller).user  # the seller does not require it
    client.force_login(person)
    profile = client.get(PROFILE).content.decode()
    assert f'href="{ENROL}"' in profile
    page = client.get(ENROL)
    body = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert '<figure class="qr-code"><svg' in body and "<path" in body  # drawn on the server
    secret = secret_on(page)
    response = client.post(ENROL, {"code": pyotp.TOTP(secret).now()})
    codes = codes_on(response)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert TwoFactorDevice.objects.get(user=person).is_confirmed
    assert AuditEvent.objects.filter(action="auth.two_factor_enrolled", actor_user_id=person.pk).exists()
    # From now on the password alone does not sign in.
    other = Client()
    assert sign_in(other, person)["Location"] == VERIFY


def test_recovery_codes_are_stored_hashed_shown_once_and_downloadable(clock, client, seller):
    person = make_member(seller).user
    client.force_login(person)
    page = client.get(ENROL)
    response = client.post(ENROL, {"code": pyotp.TOTP(secret_on(page)).now()})
    codes = codes_on(response)
    stored = list(RecoveryCode.objects.filter(user=person).values_list("code_hash", flat=True))
    assert len(stored) == 10
    for code_hash in stored:
        identify_hasher(code_hash)  # a salted password hash, not the code
        assert not any(code.replace("-", "") in code_hash for code in codes)
    download = re.search(
        r'href="data:text/plain;charset=utf-8,([^"]+)" download="([^"]+)"', response.content.decode()
    )
    assert download and download.group(2) == "ozonseat-recovery-codes.txt"
    assert all(code in unquote(download.group(1)) for code in codes)
    # shown once: the profile says how many are left, never the codes
    profile = client.get(PROFILE).content.decode()
    assert "10 unused recovery codes left." in profile and not any(code in profile for code in codes)


def test_a_recovery_code_signs_in_once(clock, client, seller):
    person = make_member(seller).user
    client.force_login(person)
    _secret, codes = enrol_from_profile(client, clock)
    first = Client()
    assert sign_in(first, person)["Location"] == VERIFY
    response = first.post(VERIFY, {"code": codes[0].upper()})  # typed in capitals: still the code
    assert response.status_code == 302
    assert RecoveryCode.objects.filter(user=person, used_at__isnull=False).count() == 1
    event = AuditEvent.objects.get(action="auth.recovery_code_used")
    assert event.actor_user_id == person.pk and event.changes == {"recovery_codes_left": [10, 9]}

    again = Client()
    sign_in(again, person)
    refused = again.post(VERIFY, {"code": codes[0]})
    assert refused.status_code == 200 and "This code is not correct" in refused.content.decode()
    assert again.post(VERIFY, {"code": codes[1]}).status_code == 302


def test_a_replayed_authenticator_code_is_refused(clock, client, seller):
    person = make_member(seller).user
    client.force_login(person)
    secret, _codes = enrol_from_profile(client, clock)
    code = pyotp.TOTP(secret).now()
    first, second = Client(), Client()
    sign_in(first, person)
    sign_in(second, person)
    assert first.post(VERIFY, {"code": code}).status_code == 302
    replay = second.post(VERIFY, {"code": code})  # the same code, another browser, same 30 seconds
    assert replay.status_code == 200 and "This code is not correct" in replay.content.decode()


def test_new_recovery_codes_need_a_current_code_replace_the_old_ones_and_are_audited(clock, client, seller):
    person = make_member(seller).user
    client.force_login(person)
    secret, old_codes = enrol_from_profile(client, clock)
    refused = client.post(CODES, {"code": "123456" if pyotp.TOTP(secret).now() != "123456" else "654321"})
    assert refused.status_code == 302 and RecoveryCode.objects.filter(user=person).count() == 10
    assert AuditEvent.objects.filter(action="auth.recovery_codes_generated").count() == 1  # at enrolment

    clock.shift(timedelta(seconds=30))
    response = client.post(CODES, {"code": pyotp.TOTP(secret).now()})
    new_codes = codes_on(response)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    event = AuditEvent.objects.filter(action="auth.recovery_codes_generated").latest("id")
    assert event.actor_user_id == person.pk and event.changes == {"replaced_earlier_codes": [None, True]}
    other = Client()
    sign_in(other, person)
    assert other.post(VERIFY, {"code": old_codes[0]}).status_code == 200  # the old ones stopped working
    assert other.post(VERIFY, {"code": new_codes[0]}).status_code == 302


# --- API tokens of people who have not enrolled ------------------------------------------------------


def test_a_members_token_is_refused_with_a_reason_while_required_two_factor_is_not_set_up(
    clock, seller, owner_membership
):
    member = make_member(seller)
    secret = api_tokens.create_api_token(actor=member.user, membership=member, name="script").secret
    service = api_tokens.create_service_account(actor=owner_membership.user, seller=seller, name="ERP")
    service_secret = api_tokens.create_api_token(
        actor=owner_membership.user, membership=service, name="erp"
    ).secret
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/me").status_code == 200

    seller.require_two_factor = True
    seller.save(update_fields=["require_two_factor"])
    response = api.get("/api/v1/me")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:ozonseat:problem:two-factor-required"
    assert body["code"] == "two_factor_required" and "two-factor" in body["detail"]
    # programs have no second factor: a service account's token keeps working
    program = APIClient()
    program.credentials(HTTP_AUTHORIZATION=f"Bearer {service_secret}")
    assert program.get("/api/v1/me").status_code == 200

    TwoFactorDevice.objects.create(
        user=member.user,
        encrypted_secret=two_factor.encrypt_secret(pyotp.random_base32()),
        confirmed_at=START,
    )
    assert api.get("/api/v1/me").status_code == 200
