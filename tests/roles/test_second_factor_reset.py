"""A lost phone: the owner, or a holder of security.manage who may act on the member (roles.authority), resets
the member's second factor — audited, ending their sessions. Nobody resets someone who holds more."""

import pyotp
import pytest
from django.test import Client
from django.urls import reverse

from accounts import two_factor
from accounts.models import RecoveryCode, TwoFactorDevice
from audit.models import AuditEvent
from ozonseat.errors import Conflict, NotAllowed
from roles import services as roles_services
from roles.second_factor import reset_member_two_factor
from tests.factories import DEFAULT_PASSWORD, make_member

pytestmark = [pytest.mark.django_db]


def enrolled_member(seller):
    member = make_member(seller)
    TwoFactorDevice.objects.create(
        user=member.user,
        encrypted_secret=two_factor.encrypt_secret(pyotp.random_base32()),
        confirmed_at="2030-01-01T00:00:00Z",
    )
    two_factor.generate_recovery_codes(user=member.user)
    return member


def with_role(owner, member, permissions, name):
    role = roles_services.create_role(actor=owner, seller=member.seller, name=name, permissions=permissions)
    roles_services.grant_role(actor=owner, membership=member, role=role, scope_kind="seller")
    return member


def url(seller, member):
    return reverse("accounts:member_reset_two_factor", args=[seller.pk, member.pk])


def test_the_owner_resets_a_lost_authenticator_after_asking(seller, owner):
    member = enrolled_member(seller)
    their_browser = Client()
    their_browser.force_login(member.user)
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("accounts:member", args=[seller.pk, member.pk])).content.decode()
    assert url(seller, member) in page
    question = client.get(url(seller, member))
    assert question.status_code == 200 and "signed out everywhere" in question.content.decode()
    assert TwoFactorDevice.objects.filter(user=member.user).exists()  # asking changes nothing

    response = client.post(url(seller, member))
    assert response.status_code == 302
    assert not TwoFactorDevice.objects.filter(user=member.user).exists()
    assert not RecoveryCode.objects.filter(user=member.user).exists()
    assert not their_browser.get(reverse("accounts:home")).wsgi_request.user.is_authenticated
    event = AuditEvent.objects.get(action="auth.two_factor_reset")
    assert event.seller_id == seller.pk and event.actor_user_id == owner.pk
    assert (event.target_type, event.target_id) == ("membership", member.pk)
    # nothing left to reset: said, not a second event
    client.post(url(seller, member))
    assert AuditEvent.objects.filter(action="auth.two_factor_reset").count() == 1

    seller.require_two_factor = True
    seller.save(update_fields=["require_two_factor"])
    fresh = Client()
    response = fresh.post(
        reverse("accounts:login"), {"username": member.user.email, "password": DEFAULT_PASSWORD}
    )
    assert response["Location"] == reverse("accounts:two_factor_setup")


def test_a_security_manager_resets_only_members_holding_no_more_than_they_do(seller, owner):
    manager = with_role(owner, make_member(seller), ["security.manage", "orders.view"], "Security")
    lesser = with_role(owner, enrolled_member(seller), ["orders.view"], "Viewer")
    greater = with_role(owner, enrolled_member(seller), ["security.manage", "members.manage"], "Admin-ish")
    reset_member_two_factor(actor=manager.user, membership=lesser)
    assert not TwoFactorDevice.objects.filter(user=lesser.user).exists()
    with pytest.raises(NotAllowed) as refused:
        reset_member_two_factor(actor=manager.user, membership=greater)
    assert refused.value.code == "holds_more"
    assert TwoFactorDevice.objects.filter(user=greater.user).exists()

    client = Client()
    client.force_login(manager.user)
    page = client.get(reverse("accounts:member", args=[seller.pk, greater.pk])).content.decode()
    assert url(seller, greater) not in page  # the page offers only what the service allows
    assert client.post(url(seller, greater)).status_code == 403
    assert TwoFactorDevice.objects.filter(user=greater.user).exists()


def test_without_security_manage_or_on_the_owner_it_is_refused(seller, owner):
    member = enrolled_member(seller)
    plain = make_member(seller)
    client = Client()
    client.force_login(plain.user)
    assert client.get(url(seller, member)).status_code == 403
    assert client.post(url(seller, member)).status_code == 403
    TwoFactorDevice.objects.create(
        user=owner,
        encrypted_secret=two_factor.encrypt_secret(pyotp.random_base32()),
        confirmed_at="2030-01-01T00:00:00Z",
    )
    owner_membership = seller.memberships.get(user=owner)
    with pytest.raises(NotAllowed):
        reset_member_two_factor(
            actor=owner, membership=owner_membership
        )  # nobody acts on the owner, nor self
    assert TwoFactorDevice.objects.filter(user=member.user).exists()


def test_resetting_someone_without_a_second_factor_is_a_conflict(seller, owner):
    member = make_member(seller)
    with pytest.raises(Conflict):
        reset_member_two_factor(actor=owner, membership=member)
