"""The sending task and the requeue sweep, in process: never twice, nothing lost, failures leave no trace."""

from datetime import timedelta
from smtplib import SMTPDataError

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from accounts import emails, services, tasks
from accounts.emails import deliver_invitation
from accounts.models import Invitation, Membership, MembershipStatus, User
from audit.models import AuditEvent
from tests.factories import UserFactory, make_member, make_seller
from tests.mail import link_in

pytestmark = [pytest.mark.django_db]


def unsent(membership, **fields):
    values = {
        "membership": membership,
        "email": membership.user.email,
        "expires_at": timezone.now() + timedelta(hours=72),
    } | fields
    return Invitation.objects.create(**values)


@pytest.fixture
def invited(seller):
    return make_member(seller, status=MembershipStatus.INVITED)


def test_delivering_twice_sends_one_message(invited, outbox):
    invitation = unsent(invited)
    assert deliver_invitation(invitation_id=invitation.pk) is True
    assert deliver_invitation(invitation_id=invitation.pk) is False
    tasks.send_invitation_email.delay(invitation.pk)
    assert len(outbox) == 1
    invitation.refresh_from_db()
    assert invitation.send_attempts == 1 and invitation.sent_at is not None
    assert AuditEvent.objects.filter(action="invitation.sent").count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"revoked_at": timezone.now()},
        {"accepted_at": timezone.now()},
        {"expires_at": timezone.now() - timedelta(seconds=1)},
    ],
)
def test_revoked_accepted_or_expired_invitations_are_not_sent(invited, outbox, fields):
    invitation = unsent(invited, **fields)
    assert deliver_invitation(invitation_id=invitation.pk) is False
    assert outbox == []
    assert Invitation.objects.get(pk=invitation.pk).token_hash is None


def test_a_failed_send_counts_the_attempt_and_leaves_no_token_or_event(invited, monkeypatch):
    invitation = unsent(invited)

    def refuse(self):
        raise SMTPDataError(451, b"try again later")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    with pytest.raises(SMTPDataError):
        deliver_invitation(invitation_id=invitation.pk)
    invitation.refresh_from_db()
    assert invitation.send_attempts == 1 and invitation.last_error == "SMTPDataError"
    assert invitation.sent_at is None and invitation.token_hash is None
    assert not AuditEvent.objects.filter(action="invitation.sent").exists()


def test_the_task_retries_smtp_failures_with_backoff_from_settings(invited, monkeypatch):
    invitation = unsent(invited)
    countdowns = []

    def refuse(self):
        raise SMTPDataError(451, b"try again later")

    def record_retry(self, *args, countdown=None, **kwargs):
        countdowns.append(countdown)
        raise RuntimeError("retry scheduled")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    monkeypatch.setattr(tasks.send_invitation_email.__class__, "retry", record_retry)
    with override_settings(EMAIL_RETRY_BASE_SECONDS=0.5), pytest.raises(RuntimeError):
        tasks.send_invitation_email.apply(args=[invitation.pk], throw=True)
    assert countdowns == [0.5]
    with override_settings(EMAIL_RETRY_BASE_SECONDS=5):
        assert [tasks.backoff_seconds(n) for n in (0, 1, 2, 10)] == [5, 10, 20, 600]


def test_the_sweep_requeues_only_what_is_due(invited, seller, outbox):
    now = timezone.now()
    never_queued_old = unsent(invited, created_at=now - timedelta(minutes=5))
    other = make_member(seller, status=MembershipStatus.INVITED)
    never_queued_new = unsent(other, created_at=now)
    queued_recently = unsent(
        make_member(seller, status=MembershipStatus.INVITED), queued_at=now - timedelta(minutes=1)
    )
    queued_long_ago = unsent(
        make_member(seller, status=MembershipStatus.INVITED), queued_at=now - timedelta(hours=1)
    )
    revoked = unsent(
        make_member(seller, status=MembershipStatus.INVITED),
        created_at=now - timedelta(hours=1),
        revoked_at=now,
    )
    with override_settings(
        INVITATION_REQUEUE_UNQUEUED_AFTER=timedelta(seconds=30),
        INVITATION_REQUEUE_UNSENT_AFTER=timedelta(minutes=15),
    ):
        assert tasks.requeue_unsent_invitations() == 2
    sent = set(Invitation.objects.filter(sent_at__isnull=False).values_list("pk", flat=True))
    assert sent == {never_queued_old.pk, queued_long_ago.pk}
    assert len(outbox) == 2
    for invitation in (never_queued_new, queued_recently, revoked):
        invitation.refresh_from_db()
        assert invitation.sent_at is None
    with override_settings(INVITATION_REQUEUE_UNQUEUED_AFTER=timedelta(0)):
        assert tasks.requeue_unsent_invitations() == 1
    assert len(outbox) == 3


def test_when_the_broker_is_down_the_invitation_stays_unqueued(invited, monkeypatch):
    invitation = unsent(invited)

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError()

    monkeypatch.setattr(tasks.send_invitation_email, "apply_async", broker_down)
    assert emails.publish_invitation_email(invitation.pk) is False
    invitation.refresh_from_db()
    assert invitation.queued_at is None and invitation.sent_at is None


def test_the_message_names_inviter_and_seller_and_carries_the_link_in_text_and_html(seller, owner, outbox):
    member = make_member(seller, status=MembershipStatus.INVITED)
    invitation = unsent(member, created_by=owner)
    deliver_invitation(invitation_id=invitation.pk)
    [message] = mail.outbox
    assert seller.name in message.subject and str(owner) in message.subject
    html = message.alternatives[0][0]
    assert "/invitations/" in message.body and "/invitations/" in html
    assert str(owner) in message.body and seller.name in message.body


SET_PASSWORD = "set your password"
EXISTING_PASSWORD = "sign in with your existing password"


@pytest.fixture
def invite_by_email(seller, owner, django_capture_on_commit_callbacks):
    """Invite an address through the service; (membership, the one message sent)."""

    def _invite(email):
        mail.outbox = []
        with django_capture_on_commit_callbacks(execute=True):
            membership = services.invite_member(actor=owner, seller=seller, email=email, display_name="Ivan")
        [message] = mail.outbox
        return membership, message

    return _invite


def test_a_new_person_is_invited_to_set_a_password(seller, owner, invite_by_email):
    _membership, message = invite_by_email("new.person@example.com")
    html = message.alternatives[0][0]
    assert message.subject == f"{owner} invited you to {seller.name} on OzonSeat"
    assert SET_PASSWORD in message.body
    assert EXISTING_PASSWORD not in message.body and EXISTING_PASSWORD not in html
    assert "/invitations/" in message.body and "/invitations/" in html


def test_another_sellers_staff_is_told_they_were_added_and_confirm_with_their_password(
    client, seller, owner, invite_by_email
):
    staff = make_member(make_seller("Other")[0]).user
    membership, message = invite_by_email(staff.email)
    html = message.alternatives[0][0]
    assert message.subject == f"{owner} added you to {seller.name} on OzonSeat"
    for text in (message.body, html):
        assert f"{owner} added you to {seller.name} on OzonSeat." in text
        assert EXISTING_PASSWORD in text
        assert SET_PASSWORD not in text and "invited you" not in text
    # The same link as ever: the accept page asks them to sign in, then accepts without a new password.
    path, _token = link_in(message.body)
    assert path in html
    page = client.get(path, follow=True).content.decode()
    assert "Sign in, then open the link again" in page
    client.force_login(staff)
    assert client.post(path).status_code == 302
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE


def test_the_message_asks_for_a_password_exactly_when_the_accept_page_does(
    seller, invite_by_email, django_capture_on_commit_callbacks
):
    other = make_seller("Other")[0]
    deactivated = make_member(other).user
    User.objects.filter(pk=deactivated.pk).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.sign_up_seller(
            email="unconfirmed@example.com",
            password="a-long-enough-pass",
            display_name="U",
            seller_name="Own shop",
        )
    addresses = {
        "new.person@example.com": True,
        "unconfirmed@example.com": True,  # signed up, never confirmed: cannot sign in
        UserFactory(password=None).email: True,
        make_member(other).user.email: False,
        deactivated.email: False,
    }
    for email, needs_password in addresses.items():
        membership, message = invite_by_email(email)
        invitation = Invitation.objects.get(membership=membership, accepted_at__isnull=True)
        assert services.invitation_needs_password(invitation) is needs_password, email
        assert (SET_PASSWORD in message.body) is needs_password, email
        assert (EXISTING_PASSWORD in message.body) is not needs_password, email


def test_every_periodic_job_of_the_beat_is_a_registered_task():
    from django.conf import settings

    from ozonseat.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"accounts.tasks.requeue_unsent_invitations", "accounts.tasks.expire_memberships"} <= scheduled
    assert scheduled <= set(app.tasks)


def test_the_expiry_job_runs_the_service(seller):
    member = make_member(seller, ends_at=timezone.now() + timedelta(hours=1))
    Membership.objects.filter(pk=member.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    assert tasks.expire_memberships.delay().get() == 1
    member.refresh_from_db()
    assert member.status == MembershipStatus.SUSPENDED


def test_english_dates_use_a_24_hour_clock_so_sentences_end_cleanly():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.template import Context, Template
    from django.utils import translation

    moment = datetime(2026, 11, 29, 17, 38, tzinfo=ZoneInfo("UTC"))
    template = Template(
        '{% load tz %}{% timezone "UTC" %}{{ moment|date:"DATETIME_FORMAT" }}.{% endtimezone %}'
    )
    with translation.override("en"):
        assert template.render(Context({"moment": moment})) == "Nov. 29, 2026, 17:38."
