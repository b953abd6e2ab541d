import pytest
from django.core import mail

from accounts import services
from accounts.models import Invitation, MembershipStatus, User
from audit.models import AuditEvent


@pytest.mark.django_db(transaction=True)
def test_invite_sends_one_email_whose_link_accepts_and_signs_in(client, seller, owner):
    membership = services.invite_member(
        actor=owner, seller=seller, email="Ivan@Example.com", display_name="Ivan"
    )
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = next(word for word in body.split() if "/invitations/" in word)
    path = link.replace("http://testserver", "")
    invitation = Invitation.objects.get(membership=membership)
    assert invitation.token_hash and invitation.token_hash not in body
    response = client.post(
        path,
        {"display_name": "Ivan P", "password": "a-long-enough-pass", "password_again": "a-long-enough-pass"},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert User.objects.get(email="ivan@example.com").check_password("a-long-enough-pass")
    assert AuditEvent.objects.filter(action="invitation.accepted", target_id=membership.pk).exists()
