"""Access reviews end to end: a real Celery worker and two real Celery beats on Redis and PostgreSQL, with a
one-second tick, send reminders to a real SMTP server (aiosmtpd).

The review opens by itself; two beats open one review and send each reminder once; a reviewer follows the
e-mail's link and answers through the dashboard; the due-date policy runs. A worker killed in the middle of
sending loses no reminder and doubles none.

Days pass by moving the review's dates (and its reminders' days) back: the same rows the schedule reads,
as if the calendar had moved on. Nothing depends on the day the tests run."""

import re
import secrets
from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import MembershipStatus, ReviewDuePolicy, Seller
from audit.models import AuditEvent
from reviews import opening
from reviews.models import AccessReview, ReviewItem, ReviewReminder, ReviewStatus
from tests.e2e.conftest import (
    WORKER_ARGUMENTS,
    WORKER_START_TIMEOUT,
    process_env,
    publishing_to_the_broker,
    start_celery,
    wait_until,
)
from tests.factories import DEFAULT_PASSWORD, make_member
from tests.reviews.conftest import build_team
from tests.services import REDIS_KEY_PREFIX, delete_redis_keys, need_postgres, need_redis

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TICK = r"run_access_reviews\[[^\]]+\] succeeded"


class Processes:
    """The module's beats and worker; the worker can be killed and another started."""

    def __init__(self, env, tmp_path_factory):
        self.env = env
        self.tmp = tmp_path_factory
        self.beats = [self._beat(n) for n in (1, 2)]
        self.worker = self.start_worker()

    def _beat(self, n):
        schedule = self.tmp.mktemp(f"beat-{n}") / "celerybeat-schedule"
        return start_celery(["beat", "--loglevel=INFO", "--schedule", str(schedule)], self.env)

    def start_worker(self):
        worker = start_celery([*WORKER_ARGUMENTS, "--hostname", f"e2e-{secrets.token_hex(4)}@%h"], self.env)
        worker.wait_for_log(r"\bready\.", timeout=WORKER_START_TIMEOUT)
        return worker

    def ticks(self, count=3):
        """Wait for `count` more ticks of the beats' job to finish."""
        start = self.worker.mark()
        self.worker.wait_for_log(TICK, count=count, after=start)

    def stop(self):
        for process in [*self.beats, self.worker]:
            process.stop()


@pytest.fixture(scope="module")
def processes(django_db_setup, django_db_blocker, smtp_server, tmp_path_factory):
    redis_url = need_redis()
    with django_db_blocker.unblock():
        need_postgres()
        env = process_env(
            smtp_port=smtp_server[0].port,
            var_dir=tmp_path_factory.mktemp("review-var"),
            OZONSEAT_REVIEWS_TICK_SECONDS="1",
            OZONSEAT_REVIEW_REMINDER_REQUEUE_AFTER_SECONDS="2",
        )
    running = Processes(env, tmp_path_factory)
    try:
        yield running
    finally:
        running.stop()
        delete_redis_keys(redis_url, REDIS_KEY_PREFIX)


@pytest.fixture
def live(processes):
    """Tasks this process publishes go to the real broker, for the module's worker."""
    with publishing_to_the_broker():
        yield processes


def age(review, days):
    """Let `days` pass for this review: its dates and its reminders' days move back."""
    shift = timedelta(days=days)
    AccessReview.objects.filter(pk=review.pk).update(
        opened_at=F("opened_at") - shift,
        opened_on=F("opened_on") - shift,
        halfway_on=F("halfway_on") - shift,
        due_on=F("due_on") - shift,
        due_at=F("due_at") - shift,
    )
    ReviewReminder.objects.filter(review=review).update(day=F("day") - shift)


def wait_for_mail(processes, mailbox, count):
    """The first `count` messages at the SMTP server; if they do not come, the worker's log says why."""
    try:
        return mailbox.wait_for(count)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- worker log ---\n{processes.worker.log()[-20000:]}") from None


def to_whom(messages):
    return sorted(message["To"] for message in messages)


def sign_in(email) -> Client:
    browser = Client()
    response = browser.post(reverse("accounts:login"), {"username": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return browser


def test_the_beat_opens_a_review_reminders_arrive_once_a_reviewer_answers_and_the_policy_runs(live, mailbox):
    processes = live
    team = build_team("Steppe Trading")
    Seller.objects.filter(pk=team.seller.pk).update(access_review_due_policy=ReviewDuePolicy.SUSPEND)

    # The review opens by itself, and its first reminders arrive: the owner (Chinese), the Administrator,
    # the KZ lead (Russian).
    messages = wait_for_mail(processes, mailbox, 3)
    [review] = AccessReview.objects.filter(seller=team.seller)
    assert review.trigger == "scheduled"
    assert to_whom(messages) == sorted(m.user.email for m in (team.owner, team.admin, team.kz_lead))
    by_person = {message["To"]: message for message in messages}
    assert re.search(r"[\u4e00-\u9fff]", by_person[team.owner.user.email]["Subject"])
    assert re.search("[\u0400-\u04ff]", by_person[team.kz_lead.user.email]["Subject"])

    # Two beats, ticking every second for a while: still one review, no reminder twice.
    processes.ticks(6)
    assert AccessReview.objects.filter(seller=team.seller).count() == 1
    assert mailbox.count() == 3
    assert ReviewReminder.objects.filter(review=review).count() == 3

    # The KZ lead follows the link in the e-mail and answers for the picker through the dashboard.
    body = by_person[team.kz_lead.user.email].get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://testserver(/sellers/\S+)", body)[1]
    lead = sign_in(team.kz_lead.user.email)
    queue = lead.get(link)
    assert queue.status_code == 200
    page = queue.content.decode()
    assert team.kz_picker.user.email in page and team.ru_seller.user.email not in page
    item = ReviewItem.objects.get(review=review, membership=team.kz_picker)
    item_url = reverse("reviews:item", args=[team.seller.pk, review.pk, item.pk])
    assert item_url in page
    answered = lead.post(item_url, {"decision": "remove", "comment": "Left the warehouse."})
    assert answered.status_code == 302
    team.kz_picker.refresh_from_db()
    assert team.kz_picker.status == MembershipStatus.REMOVED

    # Twelve days later: two days before the due date. The reviewers with items left are reminded, and the
    # owner is warned what the policy will do.
    age(review, 12)
    messages = wait_for_mail(processes, mailbox, 6)[3:]
    processes.ticks(3)
    assert mailbox.count() == 6
    assert to_whom(messages) == sorted(m.user.email for m in (team.owner, team.admin, team.kz_lead))
    warning = next(m for m in messages if m["To"] == team.owner.user.email)
    with translation.override("zh-hans"):
        policy = str(ReviewDuePolicy.SUSPEND.label).lower()
    text = warning.get_body(preferencelist=("plain",)).get_content()
    assert policy in text and "mine=1" not in text  # the owner's list: every unanswered member
    assert ReviewReminder.objects.filter(review=review, kind="two_days").count() == 3

    # Past the due date: the beat applies the policy (suspend) to everyone nobody answered for, once.
    age(review, 3)
    wait_until(lambda: AccessReview.objects.get(pk=review.pk).status == ReviewStatus.CLOSED, message="closed")
    review.refresh_from_db()
    assert review.close_reason == "policy" and review.closing_digest
    for member in (team.ru_seller, team.admin, team.service, team.kz_lead):
        member.refresh_from_db()
        assert member.status == MembershipStatus.SUSPENDED
    team.kz_picker.refresh_from_db()
    assert team.kz_picker.status == MembershipStatus.REMOVED  # answered: not touched by the policy
    processes.ticks(3)
    assert AuditEvent.objects.filter(action="review.policy_applied", target_id=review.pk).count() == 1
    assert AuditEvent.objects.filter(action="member.suspended", actor_user_id=None).count() == 4
    assert mailbox.count() == 6  # nothing more to remind anyone of


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_a_worker_killed_in_the_middle_of_sending_loses_no_reminder_and_doubles_none(live, mailbox, stage):
    processes = live
    from accounts.models import Membership
    from tests.factories import make_seller

    seller, owner = make_seller(f"Killed at {stage}")
    make_member(seller)  # one item besides the owner's: both asked of the owner, one reminder
    mailbox.hold_at = stage
    review = opening.start_review(actor=owner.user, seller=seller)

    assert mailbox.held.wait(timeout=30), "the worker never reached the SMTP server"
    # Mid-conversation: at RCPT no data was sent; at DATA the server has the message, its 250 not yet sent.
    processes.worker.kill()
    mailbox.hold_at = None
    [reminder] = ReviewReminder.objects.filter(review=review)
    if stage == "RCPT":
        assert reminder.handed_over_at is None  # not handed over: it must be sent again
    else:
        assert reminder.handed_over_at is not None  # handed over: it must never be sent again

    processes.worker = processes.start_worker()
    processes.ticks(5)  # the beats queue again what was never handed over
    [message] = mailbox.wait_for(1)
    processes.ticks(3)
    assert mailbox.count() == 1
    assert message["To"] == Membership.objects.get(pk=owner.pk).user.email
    assert message["Message-ID"].startswith(f"<review-reminder-{reminder.pk}@")
    reminder.refresh_from_db()
    assert reminder.handed_over_at is not None
