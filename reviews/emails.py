"""Reminder e-mails: planned by the beat (one row per reminder, `plan_reminders`), sent at most once by the
task.

What a reminder says is read when it is sent (how many items wait now), in the recipient's language, with a
link straight to their waiting items. A reminder with nothing left to answer is skipped, not sent."""

import logging
from collections import Counter
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import ngettext

from accounts.emails import absolute_url, email_language, publish_task
from accounts.models import Membership, MembershipKind, ReviewDuePolicy
from ozonseat.mail import Handover, send_at_most_once

from . import schedule
from .models import AccessReview, ItemReviewer, ReminderKind, ReviewItem, ReviewReminder, ReviewStatus

logger = logging.getLogger(__name__)


def publish_reminder(reminder_id: int) -> bool:
    from .tasks import send_review_reminder  # tasks imports this module

    if not publish_task(send_review_reminder, reminder_id):
        return False  # the next tick queues it again
    ReviewReminder.objects.filter(pk=reminder_id).update(queued_at=timezone.now())
    return True


def publish_plan(review_id: int) -> bool:
    """Plan a new review's first reminders right away (the beat's next tick would, too)."""
    from .tasks import plan_review_reminders  # tasks imports this module

    return publish_task(plan_review_reminders, review_id)


def waiting_for(reminder) -> int:
    """Items this reminder is about, now: the recipient's own waiting items; for the owner's overdue
    escalation and the policy warning, every unanswered item."""
    items = ReviewItem.objects.filter(review_id=reminder.review_id, decision="")
    if reminder.recipient.is_owner and _about_everything(reminder):
        return items.count()
    return items.filter(reviewers__membership_id=reminder.recipient_id).count()


def _about_everything(reminder) -> bool:
    review = reminder.review
    return reminder.kind == ReminderKind.OVERDUE or (
        reminder.kind in (ReminderKind.TWO_DAYS, ReminderKind.DUE)
        and review.due_policy != ReviewDuePolicy.LEAVE
    )


def queue_link(reminder) -> str:
    path = reverse(
        "reviews:review", kwargs={"seller_id": reminder.review.seller_id, "review_id": reminder.review_id}
    )
    mine = "" if reminder.recipient.is_owner and _about_everything(reminder) else "&mine=1"
    return absolute_url(f"{path}?state=waiting{mine}")


SUBJECTS = {
    ReminderKind.OPENED: lambda n: ngettext(
        "Access review at %(seller)s: %(count)d member to review by %(due)s",
        "Access review at %(seller)s: %(count)d members to review by %(due)s",
        n,
    ),
    ReminderKind.HALFWAY: lambda n: ngettext(
        "Halfway through the access review at %(seller)s: %(count)d member still waits",
        "Halfway through the access review at %(seller)s: %(count)d members still wait",
        n,
    ),
    ReminderKind.TWO_DAYS: lambda n: ngettext(
        "Two days left in the access review at %(seller)s: %(count)d member still waits",
        "Two days left in the access review at %(seller)s: %(count)d members still wait",
        n,
    ),
    ReminderKind.DUE: lambda n: ngettext(
        "The access review at %(seller)s is due today: %(count)d member still waits",
        "The access review at %(seller)s is due today: %(count)d members still wait",
        n,
    ),
    ReminderKind.OVERDUE: lambda n: ngettext(
        "The access review at %(seller)s is overdue: %(count)d member was not reviewed",
        "The access review at %(seller)s is overdue: %(count)d members were not reviewed",
        n,
    ),
}


def build_reminder_message(reminder, count: int) -> EmailMultiAlternatives:
    review, recipient = reminder.review, reminder.recipient
    user, seller = recipient.user, review.seller
    with translation.override(email_language(user, seller)):
        due = review.due_on
        context = {
            "user": user,
            "seller": seller,
            "review": review,
            "kind": reminder.kind,
            "count": count,
            "link": queue_link(reminder),
            "warning": _about_everything(reminder) and reminder.kind != ReminderKind.OVERDUE,
            "policy": review.get_due_policy_display(),
            "escalation": reminder.kind == ReminderKind.OVERDUE,
        }
        subject = SUBJECTS[reminder.kind](count) % {"seller": seller.name, "count": count, "due": _date(due)}
        text = render_to_string("emails/review_reminder.txt", context)
        html = render_to_string("emails/review_reminder.html", context)
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(">") or "ozonseat.localhost"
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[user.email],
        # The same id whatever happens, so a message is recognisably this reminder.
        headers={"Message-ID": f"<review-reminder-{reminder.pk}@{domain}>"},
    )
    message.attach_alternative(html, "text/html")
    return message


def _date(day) -> str:
    return date_format(day, "DATE_FORMAT")


def _claim(reminder_id: int) -> bool:
    # Its own transaction, committed before the SMTP server gets the end of the message.
    return bool(
        ReviewReminder.objects.filter(
            pk=reminder_id, handed_over_at__isnull=True, skipped_at__isnull=True
        ).update(handed_over_at=timezone.now(), attempts=F("attempts") + 1, last_error="")
    )


def _release(reminder_id: int) -> None:
    ReviewReminder.objects.filter(pk=reminder_id).update(handed_over_at=None)


def deliver_reminder(*, reminder_id: int) -> bool:
    """Send one reminder unless it was handed over already, or nothing waits any more. Returns True if a
    message went out."""
    reminder = (
        ReviewReminder.objects.select_related("review__seller", "recipient__user")
        .filter(pk=reminder_id, handed_over_at__isnull=True, skipped_at__isnull=True)
        .first()
    )
    if reminder is None:
        return False
    count = waiting_for(reminder)
    recipient = reminder.recipient
    if reminder.review.status != ReviewStatus.OPEN or not count or not recipient.is_effective:
        ReviewReminder.objects.filter(pk=reminder_id, handed_over_at__isnull=True).update(
            skipped_at=timezone.now()
        )
        return False
    message = build_reminder_message(reminder, count)
    try:
        outcome = send_at_most_once(
            message, claim=partial(_claim, reminder_id), release=partial(_release, reminder_id)
        )
    except Exception as error:
        ReviewReminder.objects.filter(pk=reminder_id).update(
            attempts=F("attempts") + 1, last_error=type(error).__name__[:200]
        )
        raise
    if outcome == Handover.SENT:
        ReviewReminder.objects.filter(pk=reminder_id).update(sent_at=timezone.now())
    elif outcome == Handover.UNCONFIRMED:
        ReviewReminder.objects.filter(pk=reminder_id).update(last_error="no answer after the hand-over")
    return outcome != Handover.NOT_CLAIMED


def unsent_reminders(now):
    """Reminders to queue (again): never queued (the broker was down), or queued long ago and still not
    handed over (the worker died before the hand-over, or its retries ran out)."""
    return ReviewReminder.objects.filter(
        handed_over_at__isnull=True, skipped_at__isnull=True, review__status=ReviewStatus.OPEN
    ).filter(Q(queued_at__isnull=True) | Q(queued_at__lte=now - settings.REVIEW_REMINDER_REQUEUE_AFTER))


# --- reminders ------------------------------------------------------------------------------------


def plan_reminders(*, now=None, review_ids=None) -> int:
    """Write the reminder rows each open review has reached today: one per reviewer who has items waiting
    (the owner also gets the policy warning before the due date, and alone the overdue escalation).
    Idempotent: the constraints allow one reminder of each kind per reviewer, and one a day. Returns how
    many it wrote (0 when a tick finds them written already)."""
    now = now or timezone.now()
    reviews = AccessReview.objects.filter(status=ReviewStatus.OPEN)
    if review_ids is not None:
        reviews = reviews.filter(pk__in=review_ids)
    rows = []
    for review in reviews:
        today = schedule.local_date(now, review.time_zone)
        kind = schedule.milestone(review, today)
        waiting = Counter(
            ItemReviewer.objects.filter(review=review, item__decision="").values_list(
                "membership_id", flat=True
            )
        )
        unanswered = ReviewItem.objects.filter(review=review, decision="").count()
        owner_id = Membership.objects.filter(
            seller_id=review.seller_id, kind=MembershipKind.OWNER
        ).values_list("pk", flat=True)[0]
        if kind == ReminderKind.OVERDUE:
            # Escalation: only once the due-date policy has run and left items unanswered.
            recipients = {owner_id} if review.policy_applied_at and unanswered else set()
        else:
            recipients = {pk for pk, count in waiting.items() if count}
            warn = kind in (ReminderKind.TWO_DAYS, ReminderKind.DUE)
            if warn and review.due_policy != ReviewDuePolicy.LEAVE and unanswered:
                recipients.add(owner_id)
        working = set(
            Membership.objects.effective(now).filter(pk__in=recipients).values_list("pk", flat=True)
        )
        rows += [
            ReviewReminder(review=review, recipient_id=pk, kind=kind, day=today, created_at=now)
            for pk in sorted(working)
        ]
    rows = _not_planned_yet(rows)
    ReviewReminder.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _not_planned_yet(rows) -> list:
    """The rows no reminder exists for yet (same kind for the same review and reviewer, or the reviewer's
    reminder of that day): the beat reports what it added, 0 on a repeated tick. The constraints still
    settle a race with another beat (ignore_conflicts)."""
    if not rows:
        return rows
    recipients = {row.recipient_id for row in rows}
    existing = ReviewReminder.objects.filter(recipient_id__in=recipients).filter(
        Q(review_id__in={row.review_id for row in rows}) | Q(day__in={row.day for row in rows})
    )
    kinds, days = set(), set()
    for review_id, recipient_id, kind, day in existing.values_list(
        "review_id", "recipient_id", "kind", "day"
    ):
        kinds.add((review_id, recipient_id, kind))
        days.add((recipient_id, day))
    return [
        row
        for row in rows
        if (row.review_id, row.recipient_id, row.kind) not in kinds
        and (row.recipient_id, row.day) not in days
    ]
