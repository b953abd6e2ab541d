"""The row locks hold under real concurrency on PostgreSQL: two requests racing for the same thing get one
winner and one clear refusal, never two results."""

import pytest
from django.core import mail

from accounts import services
from accounts.emails import deliver_invitation
from accounts.models import Invitation, Membership, MembershipStatus, User
from audit.models import AuditEvent
from ozonseat.errors import ServiceError
from tests.concurrency import race
from tests.factories import make_member, make_seller, sent_invitation

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-enough-passphrase"


def test_two_simultaneous_acceptances_of_one_link_accept_once():
    seller, _owner = make_seller()
    membership = make_member(seller, status=MembershipStatus.INVITED)
    User.objects.filter(pk=membership.user_id).update(password="!unusable")
    _invitation, token = sent_invitation(membership)

    def accept():
        return services.accept_invitation(
            token=token, signed_in_user=None, display_name="A", password=PASSWORD
        )

    results = race(accept, accept)
    winners = [result for result in results if isinstance(result, Membership)]
    losers = [result for result in results if isinstance(result, services.InvitationProblem)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].code in {"used", "not_pending"}
    assert AuditEvent.objects.filter(action="invitation.accepted").count() == 1


def test_two_owners_inviting_the_same_new_address_at_once_create_one_user():
    first, first_owner = make_seller("First")
    second, second_owner = make_seller("Second")

    def invite(seller, owner):
        return lambda: services.invite_member(
            actor=owner.user, seller=seller, email="wanted@example.com", display_name="Wanted"
        )

    results = race(invite(first, first_owner), invite(second, second_owner))
    users = User.objects.filter(email="wanted@example.com")
    assert users.count() == 1
    # both invitations stand, on the one user
    assert all(isinstance(result, Membership) for result in results), results
    assert {m.user_id for m in results} == {users.get().pk}
    assert {m.seller_id for m in results} == {first.pk, second.pk}


def test_the_same_address_invited_twice_at_once_to_one_seller_is_one_membership():
    seller, owner = make_seller()

    def invite():
        return services.invite_member(
            actor=owner.user, seller=seller, email="twice@example.com", display_name="T"
        )

    results = race(invite, invite)
    assert Membership.objects.filter(seller=seller, user__email="twice@example.com").count() == 1
    assert sum(isinstance(result, Membership) for result in results) == 1
    assert all(isinstance(result, (Membership, ServiceError)) for result in results), results


def test_two_deliveries_of_one_invitation_at_once_send_one_message(outbox):
    seller, _owner = make_seller()
    membership = make_member(seller, status=MembershipStatus.INVITED)
    from datetime import timedelta

    from django.utils import timezone

    invitation = Invitation.objects.create(
        membership=membership, email=membership.user.email, expires_at=timezone.now() + timedelta(days=1)
    )

    def deliver():
        return deliver_invitation(invitation_id=invitation.pk)

    results = race(deliver, deliver, deliver)
    assert sorted(results) == [False, False, True], results
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="invitation.sent").count() == 1
