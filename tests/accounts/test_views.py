"""The plain pages work end to end: sign up, sign in and out, password reset, members, invite, edit,
member actions, seller settings, ownership transfer."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Membership, MembershipKind, MembershipStatus, Seller, User
from audit.models import AuditEvent
from tests.factories import DEFAULT_PASSWORD, make_member
from tests.mail import link_in

pytestmark = [pytest.mark.django_db]

NEW_PASSWORD = "another-long-passphrase"


def test_sign_up_page_creates_the_seller_and_sends_the_confirmation(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:sign_up"),
            {
                "seller_name": "Tea House",
                "display_name": "Founder",
                "email": "founder+tea@example.com",
                "password": NEW_PASSWORD,
                "language": "en",
                "time_zone": "Asia/Shanghai",
            },
        )
    assert response.status_code == 200 and "founder+tea@example.com" in response.content.decode()
    seller = Seller.objects.get(name="Tea House")
    assert seller.time_zone == "Asia/Shanghai"
    path, _token = link_in(mail.outbox[0].body)
    # cannot sign in before confirming
    response = client.post(
        reverse("accounts:login"), {"username": "founder+tea@example.com", "password": NEW_PASSWORD}
    )
    assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated
    client.get(path, follow=True)
    response = client.post(reverse("accounts:confirm_email", args=["pending"]))
    assert response["Location"].endswith("?email=founder%2Btea%40example.com")
    response = client.post(
        reverse("accounts:login"),
        {"username": "founder+tea@example.com", "password": NEW_PASSWORD},
        follow=True,
    )
    assert response.wsgi_request.user.is_authenticated
    assert response.wsgi_request.path.startswith(f"/sellers/{seller.pk}/")  # the seller's start page


def test_sign_in_is_case_insensitive_and_sign_out_needs_a_post(client, owner):
    response = client.post(
        reverse("accounts:login"), {"username": owner.email.upper(), "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert not client.get(reverse("accounts:home")).wsgi_request.user.is_authenticated


def test_a_wrong_password_is_refused_with_a_message(client, owner):
    response = client.post(
        reverse("accounts:login"), {"username": owner.email, "password": "not-the-password"}
    )
    assert response.status_code == 200
    assert "The e-mail address or password is not correct." in response.content.decode()


def test_password_reset_by_email_sets_a_new_password_and_ends_other_sessions(
    client, owner, django_capture_on_commit_callbacks
):
    other_device = type(client)()
    other_device.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": owner.email.upper()})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [owner.email]
    link = re.search(r"http://testserver(/password-reset/\S+/\S+/)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200 and "new_password1" in response.content.decode()
    response = client.post(
        response.wsgi_request.path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="auth.password_reset", actor_user_id=owner.pk).count() == 1
    assert not other_device.get(reverse("accounts:home")).wsgi_request.user.is_authenticated
    # the link works once
    assert "new_password1" not in client.get(link, follow=True).content.decode()


def test_password_reset_for_an_unknown_address_answers_the_same_and_sends_nothing(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_the_owner_manages_a_member_through_the_pages(
    client, seller, owner, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    members_url = reverse("accounts:members", args=[seller.pk])
    assert client.get(members_url).status_code == 200
    assert client.get(reverse("accounts:invite", args=[seller.pk])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:invite", args=[seller.pk]),
            {"email": "staff@example.com", "display_name": "Staff", "job_title": "Support", "language": "ru"},
        )
    membership = Membership.objects.get(seller=seller, user__email="staff@example.com")
    assert response["Location"] == reverse("accounts:member", args=[seller.pk, membership.pk])
    assert len(mail.outbox) == 1
    assert "staff@example.com" in client.get(members_url).content.decode()
    assert "staff@example.com" in client.get(members_url, {"q": "Support"}).content.decode()
    assert "staff@example.com" not in client.get(members_url, {"q": "nomatch"}).content.decode()

    for action in ("resend", "revoke"):
        url = reverse("accounts:member_action", args=[seller.pk, membership.pk, action])
        assert client.get(url).status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url).status_code == 302
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.REMOVED
    assert len(mail.outbox) == 2  # the resend

    active = make_member(seller)
    for action, status in (("suspend", "suspended"), ("reactivate", "active"), ("remove", "removed")):
        response = client.post(
            reverse("accounts:member_action", args=[seller.pk, active.pk, action]), follow=True
        )
        assert response.status_code == 200
        active.refresh_from_db()
        assert active.status == status
    response = client.post(
        reverse("accounts:member_action", args=[seller.pk, active.pk, "suspend"]), follow=True
    )
    assert "Only an active member can be suspended." in response.content.decode()


def test_the_owner_changes_settings_and_transfers_ownership_through_the_pages(client, seller, owner):
    client.force_login(owner)
    settings_url = reverse("accounts:seller_settings", args=[seller.pk])
    assert client.get(settings_url).status_code == 200
    response = client.post(
        settings_url,
        {
            "name": "Renamed",
            "default_language": "ru",
            "time_zone": "Europe/Moscow",
            "invitation_lifetime_hours": 48,
            "access_review_interval_days": 30,
        },
    )
    assert response.status_code == 302
    seller.refresh_from_db()
    assert (seller.name, seller.invitation_lifetime_hours) == ("Renamed", 48)

    member = make_member(seller)
    transfer_url = reverse("accounts:transfer_ownership", args=[seller.pk])
    response = client.post(transfer_url, {"new_owner": member.pk})  # without the confirmation box
    assert response.status_code == 200
    assert Membership.objects.get(seller=seller, kind=MembershipKind.OWNER).user == owner
    response = client.post(transfer_url, {"new_owner": member.pk, "confirm": "on"})
    assert response.status_code == 302
    assert Membership.objects.get(seller=seller, kind=MembershipKind.OWNER).pk == member.pk
    # the former owner can no longer change the settings
    response = client.post(
        settings_url,
        {
            "name": "Mine again",
            "default_language": "en",
            "time_zone": "UTC",
            "invitation_lifetime_hours": 72,
            "access_review_interval_days": 90,
        },
    )
    assert response.status_code == 403
    seller.refresh_from_db()
    assert seller.name == "Renamed"


def test_a_member_cannot_change_settings_or_transfer_ownership_through_the_pages(client, seller, owner):
    member = make_member(seller)
    client.force_login(member.user)
    assert client.get(reverse("accounts:members", args=[seller.pk])).status_code == 200
    response = client.post(
        reverse("accounts:seller_settings", args=[seller.pk]),
        {
            "name": "Hijacked",
            "default_language": "en",
            "time_zone": "UTC",
            "invitation_lifetime_hours": 720,
            "access_review_interval_days": 90,
        },
    )
    assert response.status_code == 403
    response = client.post(
        reverse("accounts:transfer_ownership", args=[seller.pk]), {"new_owner": member.pk, "confirm": "on"}
    )
    assert response.status_code == 403
    seller.refresh_from_db()
    assert seller.name != "Hijacked" and seller.invitation_lifetime_hours == 72
    assert Membership.objects.get(seller=seller, kind=MembershipKind.OWNER).user == owner
    assert User.objects.count() == 2
