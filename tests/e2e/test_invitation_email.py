"""The invitation e-mail end to end: a real Celery worker on the real Redis broker sends it to a real SMTP
server (aiosmtpd); its link accepts the invitation through the web; the new member signs in. Faults: the
SMTP server refuses at first; the broker is down when the invitation is made."""

import pytest
import redis
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import Invitation, MembershipStatus
from accounts.tasks import requeue_unsent_invitations, send_invitation_email
from audit.models import AuditEvent
from ozonseat.celery import app
from tests.e2e.conftest import free_port, use_broker
from tests.factories import make_seller
from tests.mail import link_in
from tests.services import REDIS_KEY_PREFIX, REDIS_URL

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-enough-passphrase"
SENT = r"send_invitation_email\[[^\]]+\] succeeded in [^:]+: True"


def assert_redelivery_sends_nothing(worker, mailbox, invitation):
    """Run the task again for the same invitation (as a broker redelivery or a retry racing would): the
    worker finishes it without a second message. Also a sync point: everything queued before has run."""
    result = send_invitation_email.delay(invitation.pk)
    line = worker.wait_for_task(result.id)
    assert "succeeded" in line and line.endswith(": False"), line
    assert mailbox.count() == 1


def accept_through_the_web_and_sign_in(message, email, seller):
    path, _token = link_in(message.get_body(preferencelist=("plain",)).get_content())
    html = message.get_body(preferencelist=("html",)).get_content()
    assert path in html
    browser = Client()
    page = browser.get(path, follow=True)
    assert page.status_code == 200 and seller.name in page.content.decode()
    response = browser.post(
        path, {"display_name": "Ivan Petrov", "password": PASSWORD, "password_again": PASSWORD}, follow=True
    )
    assert response.status_code == 200, response.content.decode()
    assert response.wsgi_request.user.email == email  # accepting signs the new member in
    assert response.wsgi_request.path.startswith(f"/sellers/{seller.pk}/")  # the seller's start page
    browser.logout()
    # the link is single-use
    assert browser.get(path, follow=True).status_code == 400

    member = Client()
    response = member.post(reverse("accounts:login"), {"username": email.upper(), "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()
    response = member.get(reverse("accounts:home"), follow=True)
    assert response.status_code == 200
    assert response.wsgi_request.user.email == email
    assert response.wsgi_request.path.startswith(f"/sellers/{seller.pk}/")  # the seller's start page


def test_an_invitation_email_arrives_once_and_its_link_lets_the_new_member_in(live_celery, mailbox):
    worker = live_celery
    start = worker.mark()
    seller, owner = make_seller("Tea House")
    membership = services.invite_member(
        actor=owner.user, seller=seller, email="ivan@example.com", display_name="Ivan"
    )

    [message] = mailbox.wait_for(1)
    worker.wait_for_log(SENT, after=start)  # the worker has committed sent_at, not only sent
    invitation = Invitation.objects.get(membership=membership)
    assert invitation.queued_at is not None and invitation.sent_at is not None
    assert invitation.send_attempts == 1
    assert message["To"] == "ivan@example.com"
    assert "Tea House" in message["Subject"] and str(owner.user) in message["Subject"]
    assert_redelivery_sends_nothing(worker, mailbox, invitation)

    accept_through_the_web_and_sign_in(message, "ivan@example.com", seller)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert AuditEvent.objects.filter(action="invitation.sent", target_id=membership.pk).count() == 1
    assert AuditEvent.objects.filter(action="invitation.accepted", target_id=membership.pk).count() == 1


def test_an_smtp_server_that_refuses_at_first_gets_the_message_exactly_once(live_celery, mailbox):
    worker = live_celery
    start = worker.mark()
    mailbox.refuse_next = 2
    seller, owner = make_seller("Retry Shop")
    membership = services.invite_member(
        actor=owner.user, seller=seller, email="ivan@example.com", display_name="Ivan"
    )

    [message] = mailbox.wait_for(1)
    worker.wait_for_log(SENT, after=start)  # the worker has committed sent_at, not only sent
    assert mailbox.refused == 2
    assert len(worker.matching(r"send_invitation_email\[[^\]]+\] retry: Retry in", after=start)) == 2
    invitation = Invitation.objects.get(membership=membership)
    assert invitation.sent_at is not None and invitation.send_attempts == 3 and invitation.last_error == ""
    assert AuditEvent.objects.filter(action="invitation.sent", target_id=membership.pk).count() == 1
    assert_redelivery_sends_nothing(worker, mailbox, invitation)
    accept_through_the_web_and_sign_in(message, "ivan@example.com", seller)


def test_an_invitation_made_while_the_broker_is_down_is_queued_later_by_the_sweep(live_celery, mailbox):
    worker = live_celery
    start = worker.mark()
    seller, owner = make_seller("Offline Shop")
    queue = redis.Redis.from_url(REDIS_URL)

    use_broker(app, f"redis://127.0.0.1:{free_port()}/1")  # nothing listens there
    try:
        membership = services.invite_member(
            actor=owner.user, seller=seller, email="ivan@example.com", display_name="Ivan"
        )
    finally:
        use_broker(app, REDIS_URL)

    # the owner's request succeeded; the invitation is saved, neither queued nor sent
    invitation = Invitation.objects.get(membership=membership)
    assert membership.status == MembershipStatus.INVITED
    assert invitation.queued_at is None and invitation.sent_at is None
    assert queue.llen(f"{REDIS_KEY_PREFIX}celery") == 0
    assert mailbox.count() == 0

    # the periodic job, run by the worker on the real broker, finds and queues it
    result = requeue_unsent_invitations.delay()
    assert worker.wait_for_task(result.id).endswith(": 1")
    [message] = mailbox.wait_for(1)
    worker.wait_for_log(SENT, after=start)  # the worker has committed sent_at, not only sent
    invitation.refresh_from_db()
    assert invitation.queued_at is not None and invitation.sent_at is not None
    assert_redelivery_sends_nothing(worker, mailbox, invitation)

    # a second sweep finds nothing left to send
    result = requeue_unsent_invitations.delay()
    assert worker.wait_for_task(result.id).endswith(": 0")
    assert mailbox.count() == 1
    accept_through_the_web_and_sign_in(message, "ivan@example.com", seller)
