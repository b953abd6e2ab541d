"""Two-factor sign-in where the seller requires it: enrolment of a TOTP app at the first sign-in, a code step
at every sign-in afterwards, codes that work once, secrets stored encrypted and never logged."""

import logging
import re
import time
from html import unescape

import pyotp
import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts import two_factor
from accounts.models import MembershipStatus, TwoFactorDevice, User
from audit.models import AuditEvent
from tests.factories import DEFAULT_PASSWORD, UserFactory, make_member, sent_invitation

pytestmark = [pytest.mark.django_db]

LOGIN = reverse("accounts:login")
SETUP = reverse("accounts:two_factor_setup")
VERIFY = reverse("accounts:two_factor_verify")


@pytest.fixture
def strict_seller(seller):
    seller.require_two_factor = True
    seller.save(update_fields=["require_two_factor"])
    return seller


@pytest.fixture
def member(strict_seller):
    return make_member(strict_seller)


def sign_in(client, user, **extra):
    return client.post(LOGIN, {"username": user.email, "password": DEFAULT_PASSWORD, **extra})


def is_signed_in(client) -> bool:
    return client.get(reverse("accounts:home")).wsgi_request.user.is_authenticated


def secret_on(page) -> str:
    content = page.content.decode()
    match = re.search(r'<code id="two-factor-secret"[^>]*>([A-Z2-7 ]+)</code>', content)
    assert match, content
    return match.group(1).replace(" ", "")


def enrol(client, user) -> str:
    response = sign_in(client, user)
    assert response.status_code == 302 and response["Location"] == SETUP
    secret = secret_on(client.get(SETUP))
    response = client.post(SETUP, {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200 and 'id="recovery-codes"' in response.content.decode()
    return secret


def recovery_codes_on(page) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page.content.decode())


def next_code(secret: str) -> str:
    """The code of the next 30-second step: the current one was just used by the enrolment."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_a_member_of_a_seller_that_requires_it_enrols_an_authenticator_at_first_sign_in(
    client, strict_seller, member
):
    response = sign_in(client, member.user)
    assert response.status_code == 302 and response["Location"] == SETUP
    assert not is_signed_in(client)  # the password alone does not sign in

    page = client.get(SETUP)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    secret = secret_on(page)
    assert len(secret) >= 16
    uri = unescape(re.search(r'href="(otpauth://[^"]+)"', page.content.decode()).group(1))
    assert uri == pyotp.TOTP(secret).provisioning_uri(name=member.user.email, issuer_name="OzonSeat")
    assert secret_on(client.get(SETUP)) == secret  # reloading shows the same key until confirmed

    response = client.post(SETUP, {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert response.status_code == 200 and "This code is not correct" in response.content.decode()
    assert not is_signed_in(client)
    assert not AuditEvent.objects.filter(action="auth.two_factor_enrolled").exists()

    response = client.post(SETUP, {"code": pyotp.TOTP(secret).now()})
    # Signed in; the recovery codes are shown once, then the person continues where they were going.
    assert response.status_code == 200 and len(recovery_codes_on(response)) == 10
    assert f'href="{reverse("accounts:home")}"' in response.content.decode()
    assert is_signed_in(client)
    device = TwoFactorDevice.objects.get(user=member.user)
    assert device.is_confirmed and device.last_used_step > 0
    event = AuditEvent.objects.get(action="auth.two_factor_enrolled")
    assert event.seller_id == strict_seller.pk and event.actor_user_id == member.user_id
    assert event.target_type == "user" and event.target_id == member.user_id
    assert event.changes == {"two_factor": [False, True]}


def test_the_secret_is_stored_encrypted_and_survives_a_secret_key_rotation(client, settings, member):
    secret = enrol(client, member.user)
    device = TwoFactorDevice.objects.get(user=member.user)
    assert secret not in device.encrypted_secret
    assert two_factor.decrypt_secret(device.encrypted_secret) == secret
    old_key, new_key = settings.SECRET_KEY, "a-new-key-" + "x" * 50
    with override_settings(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[old_key]):
        assert two_factor.decrypt_secret(device.encrypted_secret) == secret
        # a sign-in re-encrypts it with the new key, after which the old key can go
        assert two_factor.verify_code(user=member.user, code=next_code(secret)).accepted
    with override_settings(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[]):
        device.refresh_from_db()
        assert two_factor.decrypt_secret(device.encrypted_secret) == secret


def test_after_enrolment_every_sign_in_asks_for_a_code_that_works_once(client, member):
    secret = enrol(client, member.user)
    client.logout()

    response = sign_in(client, member.user)
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert not is_signed_in(client)
    code = next_code(secret)
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 302
    assert is_signed_in(client)
    client.logout()

    # the same code again: refused, even with the right password
    sign_in(client, member.user)
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 200 and "This code is not correct" in response.content.decode()
    assert not is_signed_in(client)


def test_a_code_is_refused_when_malformed(client, member):
    enrol(client, member.user)
    client.logout()
    sign_in(client, member.user)
    response = client.post(VERIFY, {"code": "12ab56"})
    assert response.status_code == 200
    assert "Enter the 6 digits" in response.content.decode()
    assert not is_signed_in(client)


def test_a_pending_sign_in_expires(client, member, monkeypatch):
    secret = enrol(client, member.user)
    client.logout()
    sign_in(client, member.user)
    later = time.time() + two_factor.PENDING_LIFETIME_SECONDS + 1
    monkeypatch.setattr(two_factor.time, "time", lambda: later)
    response = client.post(VERIFY, {"code": next_code(secret)})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not is_signed_in(client)


def test_the_second_step_pages_need_a_pending_sign_in(client, member):
    for url in (SETUP, VERIFY):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == LOGIN
    assert not TwoFactorDevice.objects.exists()


def test_an_enrolled_person_cannot_enrol_another_device_with_the_password_alone(client, member):
    enrol(client, member.user)
    client.logout()
    sign_in(client, member.user)
    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert TwoFactorDevice.objects.filter(user=member.user).count() == 1


def test_without_the_requirement_and_without_a_device_the_password_signs_in(client, seller):
    member = make_member(seller)
    response = sign_in(client, member.user)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:home")
    assert is_signed_in(client)
    assert not TwoFactorDevice.objects.exists()


def test_the_requirement_of_one_seller_applies_to_a_person_who_works_for_two(client, seller, strict_seller):
    from tests.factories import make_seller

    relaxed, _ = make_seller("Relaxed")
    person = UserFactory()
    make_member(relaxed, user=person)
    make_member(strict_seller, user=person)
    assert sign_in(client, person)["Location"] == SETUP


def test_the_next_page_is_kept_through_the_second_step(client, strict_seller, member):
    members_url = reverse("accounts:members", args=[strict_seller.pk])
    response = sign_in(client, member.user, next=members_url)
    assert response["Location"] == SETUP
    secret = secret_on(client.get(SETUP))
    response = client.post(SETUP, {"code": pyotp.TOTP(secret).now()})
    assert f'href="{members_url}"' in response.content.decode()

    client.logout()
    response = sign_in(client, member.user, next=members_url)
    response = client.post(VERIFY, {"code": next_code(secret)})
    assert response["Location"] == members_url


def test_accepting_an_invitation_to_such_a_seller_leads_to_enrolment_before_access(client, strict_seller):
    membership = make_member(strict_seller, status=MembershipStatus.INVITED)
    User.objects.filter(pk=membership.user_id).update(password="!unusable")
    _invitation, token = sent_invitation(membership)
    password = "a-long-enough-passphrase"
    response = client.post(
        reverse("accounts:accept_invitation", args=[token]),
        {"display_name": "New", "password": password, "password_again": password},
    )
    assert response.status_code == 302 and response["Location"] == SETUP
    assert not is_signed_in(client)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    secret = secret_on(client.get(SETUP))
    assert client.post(SETUP, {"code": pyotp.TOTP(secret).now()}).status_code == 200
    assert is_signed_in(client)


def test_the_secret_and_codes_never_reach_the_logs(client, member, caplog):
    caplog.set_level(logging.DEBUG)
    secret = enrol(client, member.user)
    client.logout()
    sign_in(client, member.user)
    code = next_code(secret)
    client.post(VERIFY, {"code": code})
    assert secret not in caplog.text


def test_requiring_it_signs_out_members_without_an_authenticator_but_not_the_owner(client, seller, owner):
    from django.test import Client

    from accounts import services

    plain = make_member(seller)
    enrolled = make_member(seller)
    TwoFactorDevice.objects.create(  # enrolled earlier, for another seller that requires it
        user=enrolled.user,
        encrypted_secret=two_factor.encrypt_secret(pyotp.random_base32()),
        confirmed_at=timezone.now(),
    )
    secret_client, plain_client, owner_client = Client(), Client(), Client()
    secret_client.force_login(enrolled.user)
    plain_client.force_login(plain.user)
    owner_client.force_login(owner)
    assert is_signed_in(plain_client) and is_signed_in(secret_client)

    services.update_seller_settings(
        actor=owner,
        seller=seller,
        name=seller.name,
        default_language=seller.default_language,
        time_zone=seller.time_zone,
        invitation_lifetime_hours=seller.invitation_lifetime_hours,
        require_two_factor=True,
        access_review_interval_days=seller.access_review_interval_days,
    )

    assert not is_signed_in(plain_client)
    assert is_signed_in(secret_client) and is_signed_in(owner_client)
    assert sign_in(plain_client, plain.user)["Location"] == SETUP
    event = AuditEvent.objects.get(action="seller.updated")
    assert event.changes == {"require_two_factor": [False, True]}
