"""Reminder e-mails: in the reviewer's language, linking straight to their waiting items, never twice;
and the SMTP hand-over they rely on, against a real SMTP server (aiosmtpd)."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.test import Client, override_settings
from django.utils import translation

from ozonseat.mail import Handover, send_at_most_once
from reviews import emails, opening, services
from reviews.models import AccessReview, ReviewItem, ReviewReminder
from reviews.tasks import queue_unsent_reminders, run_access_reviews
from tests.e2e.conftest import EphemeralPortController, Mailbox
from tests.reviews.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def planned(team, outbox):
    [review_id] = opening.open_due_reviews(now=NOW)
    emails.plan_reminders(now=NOW)
    return AccessReview.objects.get(pk=review_id)


def reminder_for(review, membership):
    return ReviewReminder.objects.get(review=review, recipient=membership)


def test_a_reminder_is_written_in_the_reviewers_language_and_links_to_their_waiting_items(team, planned):
    reminder = reminder_for(planned, team.kz_lead)
    assert emails.deliver_reminder(reminder_id=reminder.pk)
    [message] = mail.outbox
    assert message.to == [team.kz_lead.user.email]
    with translation.override("ru"):
        expected = emails.SUBJECTS["opened"](2) % {
            "seller": team.seller.name,
            "count": 2,
            "due": emails._date(planned.due_on),
        }
    assert message.subject == expected
    assert message.subject != emails.SUBJECTS["opened"](2) % {
        "seller": team.seller.name,
        "count": 2,
        "due": emails._date(planned.due_on),
    }
    assert message.extra_headers["Message-ID"].startswith(f"<review-reminder-{reminder.pk}@")
    link = f"http://testserver/sellers/{team.seller.pk}/reviews/{planned.pk}/?state=waiting&mine=1"
    assert link in message.body and link.replace("&", "&amp;") in message.alternatives[0][0]
    # the link opens the lead's list: the KZ picker is there, the RU seller is not
    browser = Client()
    browser.force_login(team.kz_lead.user)
    page = browser.get(link.removeprefix("http://testserver")).content.decode()
    assert str(team.kz_picker.user) in page and str(team.ru_seller.user) not in page


def test_a_reminder_is_sent_once_however_often_its_task_runs(team, planned):
    reminder = reminder_for(planned, team.owner)
    assert emails.deliver_reminder(reminder_id=reminder.pk)
    assert not emails.deliver_reminder(reminder_id=reminder.pk)
    # the beat's steps, the same day: nothing new is planned, nothing handed over is queued again
    emails.plan_reminders(now=NOW + timedelta(hours=1))
    queue_unsent_reminders(NOW + timedelta(hours=1))
    assert [m.to for m in mail.outbox].count([team.owner.user.email]) == 1
    reminder.refresh_from_db()
    assert reminder.handed_over_at and reminder.sent_at and reminder.attempts == 1


def test_a_reminder_with_nothing_left_waiting_is_skipped(team, planned):
    for item in ReviewItem.objects.filter(review=planned, reviewers__membership=team.kz_lead):
        services.decide_item(actor=team.kz_lead.user, item=item, decision="keep")
    reminder = reminder_for(planned, team.kz_lead)
    assert not emails.deliver_reminder(reminder_id=reminder.pk)
    reminder.refresh_from_db()
    assert reminder.skipped_at and not reminder.handed_over_at
    assert mail.outbox == []


def test_the_beat_sends_every_planned_reminder(team, outbox):
    from django.utils import timezone

    from accounts.models import Seller

    Seller.objects.filter(pk=team.seller.pk).update(created_at=timezone.now() - timedelta(days=200))
    result = run_access_reviews()  # CELERY_TASK_ALWAYS_EAGER: the sending tasks run here
    assert result["opened"] == 1 and result["planned"] == 3 and result["queued"] == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        m.user.email for m in (team.owner, team.admin, team.kz_lead)
    )
    # The next tick finds everything done, and says so.
    assert run_access_reviews() == {"opened": 0, "policies": 0, "planned": 0, "queued": 0}
    assert len(mail.outbox) == 3


def test_planning_reports_only_the_reminders_it_adds(team):
    [review_id] = opening.open_due_reviews(now=NOW)
    assert emails.plan_reminders(now=NOW) == 3
    assert emails.plan_reminders(now=NOW + timedelta(hours=3)) == 0  # the beat ticks again the same day
    assert emails.plan_reminders(now=NOW + timedelta(days=1)) == 0  # nothing new until halfway
    assert ReviewReminder.objects.filter(review_id=review_id).count() == 3


# --- the SMTP hand-over ------------------------------------------------------------------------------


class Refusing(Mailbox):
    async def handle_DATA(self, server, session, envelope):
        return "451 4.3.0 Try again later"


@pytest.fixture
def smtp():
    def start(handler):
        controller = EphemeralPortController(handler, hostname="127.0.0.1", port=0)
        controller.start()
        started.append(controller)
        return override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=controller.port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_TIMEOUT=5,
        )

    started = []
    yield start
    for controller in started:
        controller.stop()


def message():
    return EmailMessage("Hello", "A line\n.\nA line that starts with a dot", to=["someone@example.com"])


def test_a_message_claimed_at_the_end_of_data_arrives_once(smtp):
    mailbox = Mailbox()
    claims = []
    with smtp(mailbox):
        outcome = send_at_most_once(message(), claim=lambda: claims.append(1) or True, release=lambda: None)
    assert outcome == Handover.SENT and claims == [1]
    [received] = mailbox.messages
    content = received.get_content().replace("\r\n", "\n")
    assert content == "A line\n.\nA line that starts with a dot\n"  # dot-stuffing undone


def test_a_message_someone_else_claimed_never_reaches_the_server(smtp):
    mailbox = Mailbox()
    with smtp(mailbox):
        outcome = send_at_most_once(message(), claim=lambda: False, release=lambda: None)
    assert outcome == Handover.NOT_CLAIMED
    assert mailbox.messages == []


def test_a_refused_message_is_released_for_a_retry(smtp):
    released = []
    with smtp(Refusing()), pytest.raises(smtplib.SMTPDataError):
        send_at_most_once(message(), claim=lambda: True, release=lambda: released.append(1))
    assert released == [1]


def test_a_server_that_cannot_be_reached_claims_nothing(smtp):
    claims = []
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=1,
            EMAIL_TIMEOUT=2,
        ),
        pytest.raises(OSError),
    ):
        send_at_most_once(message(), claim=lambda: claims.append(1) or True, release=lambda: None)
    assert claims == []
