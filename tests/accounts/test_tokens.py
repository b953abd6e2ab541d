"""Link tokens: refused with a clear page when expired, used, revoked, forged, superseded or opened by the
wrong person; only their SHA-256 hash is stored; at least 128 random bits."""

import base64
import hashlib
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from accounts import services
from accounts.models import Invitation, InvitationKind, Membership, MembershipStatus, User
from accounts.tokens import hash_token, new_token
from audit.models import AuditEvent
from tests.factories import UserFactory, make_member, make_seller, sent_invitation
from tests.mail import link_in

pytestmark = [pytest.mark.django_db]

PASSWORD = "a-long-enough-passphrase"
ACCEPT_DATA = {"display_name": "New Person", "password": PASSWORD, "password_again": PASSWORD}


def accept_url(token):
    return reverse("accounts:accept_invitation", args=[token])


def confirm_url(token):
    return reverse("accounts:confirm_email", args=[token])


def counts():
    return (
        User.objects.filter(is_active=True).count(),
        Membership.objects.filter(status=MembershipStatus.ACTIVE).count(),
        Invitation.objects.filter(accepted_at__isnull=False).count(),
        AuditEvent.objects.exclude(action="access.denied").count(),  # denials are logged, not writes
    )


def assert_refused(response, status, text):
    assert response.status_code == status
    content = response.content.decode()
    assert "This link cannot be used" in content or status == 403
    assert text in content, content


@pytest.fixture
def invited(seller):
    membership = make_member(seller, status=MembershipStatus.INVITED, user=UserFactory(password=None))
    User.objects.filter(pk=membership.user_id).update(password="!unusable")
    membership.user.refresh_from_db()
    return membership


def test_a_valid_link_shows_the_form_and_accepts(client, invited):
    _invitation, token = sent_invitation(invited)
    response = client.get(accept_url(token), follow=True)
    assert response.status_code == 200 and "Accept and set password" in response.content.decode()
    response = client.post(accept_url(token), ACCEPT_DATA, follow=True)
    invited.refresh_from_db()
    assert invited.status == MembershipStatus.ACTIVE
    # signed in as the new member, who lands on the seller's page
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == invited.user_id
    assert response.wsgi_request.path.startswith(f"/sellers/{invited.seller_id}/")


def test_an_expired_link_is_refused(client, invited):
    _invitation, token = sent_invitation(invited, expires_in=timedelta(seconds=-1))
    before = counts()
    assert_refused(client.get(accept_url(token), follow=True), 400, "This link has expired")
    assert_refused(client.post(accept_url(token), ACCEPT_DATA), 400, "This link has expired")
    assert counts() == before


def test_a_used_link_is_refused_the_second_time(client, invited):
    _invitation, token = sent_invitation(invited)
    assert client.post(accept_url(token), ACCEPT_DATA).status_code == 302
    client.logout()
    before = counts()
    assert_refused(client.get(accept_url(token), follow=True), 400, "This link has already been used")
    assert_refused(client.post(accept_url(token), ACCEPT_DATA), 400, "This link has already been used")
    assert counts() == before


def test_a_revoked_link_is_refused(client, seller, owner, invited):
    _invitation, token = sent_invitation(invited)
    services.revoke_invitation(actor=owner, membership=invited)
    before = counts()
    assert_refused(client.get(accept_url(token), follow=True), 400, "withdrawn")
    assert_refused(client.post(accept_url(token), ACCEPT_DATA), 400, "withdrawn")
    assert counts() == before


@pytest.mark.parametrize(
    "forged", [new_token(), "x" * 43, "a" * 500, "-"], ids=["random-token", "43-chars", "500-chars", "dash"]
)
def test_a_forged_link_is_refused(client, invited, forged):
    sent_invitation(invited)
    before = counts()
    assert_refused(client.get(accept_url(forged), follow=True), 400, "This link is not valid")
    assert_refused(client.post(accept_url(forged), ACCEPT_DATA), 400, "This link is not valid")
    assert counts() == before


def test_a_link_superseded_by_a_resend_is_refused_and_the_new_one_works(
    client, seller, owner, invited, django_capture_on_commit_callbacks
):
    _invitation, old_token = sent_invitation(invited)
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        services.resend_invitation(actor=owner, membership=invited)
    _path, new_token_ = link_in(mail.outbox[0].body)
    before = counts()
    assert_refused(client.get(accept_url(old_token), follow=True), 400, "replaced by a newer one")
    assert_refused(client.post(accept_url(old_token), ACCEPT_DATA), 400, "replaced by a newer one")
    assert counts() == before
    assert client.post(accept_url(new_token_), ACCEPT_DATA).status_code == 302


def test_a_link_opened_by_another_signed_in_user_is_refused(client, invited):
    _invitation, token = sent_invitation(invited)
    client.force_login(UserFactory())
    before = counts()
    assert_refused(
        client.get(accept_url(token), follow=True), 403, "This invitation was sent to another address"
    )
    assert_refused(client.post(accept_url(token), ACCEPT_DATA), 403, "Sign out, then open the link again")
    assert counts() == before
    invited.refresh_from_db()
    assert invited.status == MembershipStatus.INVITED
    assert not User.objects.get(pk=invited.user_id).has_usable_password()


def test_an_existing_user_must_sign_in_before_accepting(client, seller):
    staff = make_member(make_seller("Other")[0]).user
    membership = make_member(seller, user=staff, status=MembershipStatus.INVITED)
    _invitation, token = sent_invitation(membership)
    response = client.get(accept_url(token), follow=True)
    assert response.status_code == 200 and "Sign in, then open the link again" in response.content.decode()
    before = counts()
    assert_refused(client.post(accept_url(token), ACCEPT_DATA), 403, "Sign in, then open the link again")
    assert counts() == before
    client.force_login(staff)
    assert client.post(accept_url(token)).status_code == 302
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE


def test_an_invitation_link_does_not_confirm_a_sign_up_and_vice_versa(client, seller, invited):
    _invitation, token = sent_invitation(invited)
    assert_refused(client.get(confirm_url(token), follow=True), 400, "This link is not valid")
    assert_refused(client.post(confirm_url(token)), 400, "This link is not valid")
    owner_to_be = make_member(seller, status=MembershipStatus.INVITED)
    _signup, signup_token = sent_invitation(owner_to_be, kind=InvitationKind.SIGNUP)
    assert_refused(client.get(accept_url(signup_token), follow=True), 400, "This link is not valid")
    invited.refresh_from_db()
    owner_to_be.refresh_from_db()
    assert invited.status == owner_to_be.status == MembershipStatus.INVITED


def test_confirmation_links_are_refused_when_expired_used_or_forged(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.sign_up_seller(
            email="founder@example.com", password=PASSWORD, display_name="F", seller_name="Shop"
        )
    _path, token = link_in(mail.outbox[-1].body)
    for forged in (new_token(), "a" * 500):
        assert_refused(client.get(confirm_url(forged), follow=True), 400, "This link is not valid")
        assert_refused(client.post(confirm_url(forged)), 400, "This link is not valid")

    Invitation.objects.filter(membership=membership).update(expires_at=membership.created_at)
    assert_refused(client.get(confirm_url(token), follow=True), 400, "This link has expired")
    assert_refused(client.post(confirm_url("pending")), 400, "This link has expired")
    assert not User.objects.get(pk=membership.user_id).is_active

    Invitation.objects.filter(membership=membership).update(
        expires_at=membership.created_at + timedelta(days=9)
    )
    # opening the link (as a mail scanner would) confirms nothing: it shows a button
    response = client.get(confirm_url(token))
    assert response.status_code == 302 and response["Location"] == confirm_url("pending")
    page = client.get(response["Location"])
    assert page.status_code == 200 and "Confirm my e-mail address" in page.content.decode()
    assert not User.objects.get(pk=membership.user_id).is_active
    response = client.post(confirm_url("pending"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login") + "?email=founder%40example.com"
    assert User.objects.get(pk=membership.user_id).is_active
    assert_refused(client.get(confirm_url(token), follow=True), 400, "This link has already been used")
    assert_refused(client.post(confirm_url(token)), 400, "This link has already been used")


@pytest.mark.postgres  # reads PostgreSQL's information_schema
def test_only_the_sha256_hash_of_the_token_is_stored_anywhere(
    client, seller, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.invite_member(
            actor=owner, seller=seller, email="hash@example.com", display_name="H"
        )
    _path, token = link_in(mail.outbox[-1].body)
    invitation = Invitation.objects.get(membership=membership)
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest() == hash_token(token)
    # open the link and accept, so sessions and audit rows exist too, then search every column
    client.get(accept_url(token), follow=True)
    client.post(accept_url(token), ACCEPT_DATA)
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema()"
        )
        columns = cursor.fetchall()
        assert len(columns) > 50
        found = []
        for table, column in columns:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS text) LIKE %s',
                [f"%{token}%"],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    assert found == []


def test_tokens_carry_at_least_128_random_bits(seller, owner, django_capture_on_commit_callbacks):
    tokens = set()
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            services.invite_member(actor=owner, seller=seller, email=f"bits{n}@example.com", display_name="B")
        tokens.add(link_in(mail.outbox[-1].body)[1])
    assert len(tokens) == 3
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128


def test_opening_a_link_moves_the_token_out_of_the_address_and_the_logs(client, invited, caplog):
    _invitation, token = sent_invitation(invited)
    response = client.get(accept_url(token))
    assert response.status_code == 302 and response["Location"] == accept_url("accept")
    assert token not in response["Location"]
    # the browser posts the form to the token-free address; the session carries the token
    page = client.get(response["Location"])
    assert page.status_code == 200 and token not in page.content.decode()
    response = client.post(accept_url("accept"), ACCEPT_DATA)
    assert response.status_code == 302
    invited.refresh_from_db()
    assert invited.status == MembershipStatus.ACTIVE
    assert not any(token in str(value) for value in client.session.values())

    # a valid link opened by the wrong person: refused, and the token is in no log line
    other = make_member(invited.seller, status=MembershipStatus.INVITED)
    User.objects.filter(pk=other.user_id).update(password="!unusable")
    _invitation, other_token = sent_invitation(other)
    caplog.clear()
    response = client.get(accept_url(other_token), follow=True)
    assert response.status_code == 403
    assert "Forbidden" in caplog.text and other_token not in caplog.text


def test_the_token_free_address_without_a_link_opened_is_refused(client, db):
    assert_refused(client.get(accept_url("accept")), 400, "This link is not valid")
