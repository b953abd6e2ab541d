"""Bad input gets a form error or a 404, never a 500, and writes nothing."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import Invitation, Membership, MembershipStatus, Seller, User
from audit.models import AuditEvent
from ozonseat.errors import InvalidInput
from tests.factories import make_member, make_seller, sent_invitation

pytestmark = [pytest.mark.django_db]

LONG_EMAIL = "a" * 245 + "@example.com"  # 257 characters
PASSWORD = "a-long-enough-passphrase"


def snapshot():
    return (
        User.objects.count(),
        Seller.objects.count(),
        Membership.objects.count(),
        Invitation.objects.count(),
        AuditEvent.objects.exclude(action="access.denied").count(),  # denials are logged, not writes
        sorted(Membership.objects.values_list("pk", "status", "job_title", "ends_at")),
        sorted(User.objects.values_list("pk", "password", "display_name", "is_active")),
    )


def invite_data(**changes):
    data = {"email": "new@example.com", "display_name": "New Person", "job_title": "", "language": ""}
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"email": LONG_EMAIL}, "email", "at most 254 characters"),
        ({"email": ""}, "email", "This field is required."),
        ({"display_name": ""}, "display_name", "This field is required."),
        ({"display_name": "x" * 151}, "display_name", "at most 150 characters"),
        ({"job_title": "x" * 101}, "job_title", "at most 100 characters"),
        ({"language": "klingon"}, "language", "Select a valid choice."),
        ({"ends_at": "yesterday-ish"}, "ends_at", "Enter a valid date/time."),
    ],
)
def test_the_invite_form_shows_field_errors_and_writes_nothing(
    client, seller, owner, changes, field, message
):
    client.force_login(owner)
    before = snapshot()
    response = client.post(reverse("accounts:invite", args=[seller.pk]), invite_data(**changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert snapshot() == before


def test_a_blank_name_made_of_spaces_is_refused_by_the_service(client, seller, owner):
    client.force_login(owner)
    before = snapshot()
    response = client.post(reverse("accounts:invite", args=[seller.pk]), invite_data(display_name="   "))
    assert response.status_code == 200 and response.context["form"].errors["display_name"]
    assert snapshot() == before


def test_inviting_an_existing_member_through_the_form_shows_the_conflict(client, seller, owner):
    member = make_member(seller)
    client.force_login(owner)
    before = snapshot()
    response = client.post(reverse("accounts:invite", args=[seller.pk]), invite_data(email=member.user.email))
    assert response.status_code == 200
    assert "is already a member of this seller" in " ".join(response.context["form"].errors["email"])
    assert snapshot() == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": LONG_EMAIL}, "email"),
        ({"email": "   "}, "email"),
        ({"display_name": " \t "}, "display_name"),
        ({"job_title": "x" * 101}, "job_title"),
        ({"language": "tlh"}, "language"),
    ],
)
def test_the_invite_service_refuses_bad_input_and_writes_nothing(seller, owner, kwargs, field):
    arguments = {"email": "new@example.com", "display_name": "New"} | kwargs
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        services.invite_member(actor=owner, seller=seller, **arguments)
    assert field in error.value.errors
    assert snapshot() == before


def test_an_over_long_job_title_on_edit_is_a_form_error_and_changes_nothing(client, seller, owner):
    member = make_member(seller, job_title="Picker")
    client.force_login(owner)
    before = snapshot()
    response = client.post(
        reverse("accounts:member", args=[seller.pk, member.pk]), {"job_title": "x" * 101, "ends_at": ""}
    )
    assert response.status_code == 200
    assert "at most 100 characters" in " ".join(response.context["form"].errors["job_title"])
    assert snapshot() == before


@pytest.mark.parametrize("action", [None, "suspend", "remove", "resend", "revoke", "reactivate"])
def test_a_member_of_another_seller_in_the_url_is_404_and_untouched(client, seller, owner, action):
    other_seller, _ = make_seller("Other")
    foreign = make_member(other_seller, job_title="Theirs")
    client.force_login(owner)
    if action is None:
        url = reverse("accounts:member", args=[seller.pk, foreign.pk])
        data = {"job_title": "Mine now"}
    else:
        url = reverse("accounts:member_action", args=[seller.pk, foreign.pk, action])
        data = {}
    before = snapshot()
    assert client.get(url).status_code == 404
    assert client.post(url, data).status_code == 404
    assert snapshot() == before


def test_another_sellers_id_in_the_url_is_404(client, seller, owner):
    other_seller, _ = make_seller("Other")
    foreign = make_member(other_seller)
    client.force_login(owner)
    before = snapshot()
    for url in (
        reverse("accounts:members", args=[other_seller.pk]),
        reverse("accounts:invite", args=[other_seller.pk]),
        reverse("accounts:member", args=[other_seller.pk, foreign.pk]),
        reverse("accounts:member_action", args=[other_seller.pk, foreign.pk, "suspend"]),
        reverse("accounts:seller_settings", args=[other_seller.pk]),
        reverse("accounts:transfer_ownership", args=[other_seller.pk]),
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"email": "x@example.com", "display_name": "X"}).status_code == 404, url
    assert snapshot() == before


def test_an_unknown_member_action_is_404(client, seller, owner):
    member = make_member(seller)
    client.force_login(owner)
    before = snapshot()
    assert (
        client.post(reverse("accounts:member_action", args=[seller.pk, member.pk, "promote"])).status_code
        == 404
    )
    assert snapshot() == before


def test_a_member_without_the_right_gets_403_on_member_actions(client, seller):
    actor = make_member(seller)
    target = make_member(seller)
    client.force_login(actor.user)
    before = snapshot()
    assert (
        client.post(reverse("accounts:member_action", args=[seller.pk, target.pk, "suspend"])).status_code
        == 403
    )
    assert client.post(reverse("accounts:invite", args=[seller.pk]), invite_data()).status_code == 403
    # Without members.view another member's page does not exist for them (issue 14: who sees whom).
    assert (
        client.post(reverse("accounts:member", args=[seller.pk, target.pk]), {"job_title": "x"}).status_code
        == 404
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "broken@"}, "email"),
        ({"email": LONG_EMAIL}, "email"),
        ({"seller_name": ""}, "seller_name"),
        ({"display_name": ""}, "display_name"),
        ({"seller_name": "x" * 151}, "seller_name"),
        ({"password": "short"}, "password"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ],
)
def test_the_sign_up_form_shows_field_errors_and_writes_nothing(client, db, changes, field):
    data = {
        "seller_name": "Tea House",
        "display_name": "Founder",
        "email": "founder@example.com",
        "password": PASSWORD,
        "language": "en",
        "time_zone": "Europe/Moscow",
    } | changes
    before = snapshot()
    response = client.post(reverse("accounts:sign_up"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"display_name": "", "password": PASSWORD, "password_again": PASSWORD}, "display_name"),
        ({"display_name": "N", "password": PASSWORD, "password_again": PASSWORD + "x"}, "password_again"),
        ({"display_name": "N", "password": "short", "password_again": "short"}, "password"),
        ({"display_name": "x" * 151, "password": PASSWORD, "password_again": PASSWORD}, "display_name"),
    ],
)
def test_the_accept_form_shows_field_errors_and_writes_nothing(client, seller, data, field):
    membership = make_member(seller, status=MembershipStatus.INVITED)
    User.objects.filter(pk=membership.user_id).update(password="!unusable")
    invitation, token = sent_invitation(membership)
    before = snapshot()
    response = client.post(reverse("accounts:accept_invitation", args=[token]), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert snapshot() == before
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
