"""Reminders on the schedule (explicit `now`, never the day the tests run), at most one a day; the due-date
policy; the overdue escalation."""

from datetime import timedelta

import pytest

from accounts.models import MembershipStatus, ReviewDuePolicy, Seller
from audit.models import AuditEvent
from reviews import emails, opening, services
from reviews.models import AccessReview, ReminderKind, ReviewItem, ReviewReminder, ReviewStatus
from roles.models import Assignment
from tests.reviews.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def open_review(team, policy=ReviewDuePolicy.LEAVE, length=14):
    Seller.objects.filter(pk=team.seller.pk).update(
        access_review_due_policy=policy, access_review_length_days=length
    )
    [review_id] = opening.open_due_reviews(now=NOW)
    return AccessReview.objects.get(pk=review_id)


def reminders(review):
    return set(ReviewReminder.objects.filter(review=review).values_list("recipient_id", "kind", "day"))


def at_day(review, days, hour=10):
    """A moment on the review's day `opened_on + days`, at `hour` o'clock in the seller's time zone."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    day = review.opened_on + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(review.time_zone))


def test_reviewers_are_reminded_at_opening_halfway_two_days_before_and_on_the_due_date(
    team,
):
    review = open_review(team)
    reviewers = {team.owner.pk, team.admin.pk, team.kz_lead.pk}
    milestones = [
        (0, ReminderKind.OPENED),
        (7, ReminderKind.HALFWAY),
        (12, ReminderKind.TWO_DAYS),
        (14, ReminderKind.DUE),
    ]
    expected = set()
    for days, kind in milestones:
        moment = at_day(review, days)
        emails.plan_reminders(now=moment)
        emails.plan_reminders(now=moment + timedelta(hours=3))  # the beat ticks again: nothing new
        expected |= {(pk, kind, moment.date()) for pk in reviewers}
        assert reminders(review) == expected, kind
    # days between milestones bring nothing
    emails.plan_reminders(now=at_day(review, 13))
    assert reminders(review) == expected


def test_a_day_the_beat_missed_is_caught_up_the_next_day(team):
    review = open_review(team)
    emails.plan_reminders(now=at_day(review, 0))
    emails.plan_reminders(now=at_day(review, 8))  # the halfway day (7) passed without a tick
    halfway = {(pk, day) for pk, kind, day in reminders(review) if kind == ReminderKind.HALFWAY}
    assert {day for _pk, day in halfway} == {at_day(review, 8).date()}


def test_a_reviewer_with_nothing_left_gets_no_reminder(team):
    review = open_review(team)
    emails.plan_reminders(now=at_day(review, 0))
    for item in ReviewItem.objects.filter(review=review, reviewers__membership=team.kz_lead):
        services.decide_item(actor=team.kz_lead.user, item=item, decision="keep")
    emails.plan_reminders(now=at_day(review, 7))
    kinds = {kind for pk, kind, _day in reminders(review) if pk == team.kz_lead.pk}
    assert kinds == {ReminderKind.OPENED}


def test_at_most_one_reminder_a_day_per_reviewer_even_across_reviews(team):
    review = open_review(team)
    emails.plan_reminders(now=at_day(review, 0))
    services.close_review(actor=team.owner.user, review=review)
    second = opening.start_review(actor=team.owner.user, seller=team.seller, now=at_day(review, 0, hour=15))
    emails.plan_reminders(now=at_day(review, 0, hour=16))
    assert not ReviewReminder.objects.filter(review=second).exists()
    emails.plan_reminders(now=at_day(review, 1))
    assert ReviewReminder.objects.filter(review=second, kind=ReminderKind.OPENED).count() == 3


def test_the_policy_warning_reaches_the_owner_before_the_due_date(team):
    review = open_review(team, policy=ReviewDuePolicy.SUSPEND)
    # the owner answers their own item and the Administrator's: nothing is asked of them any more...
    for member in (team.owner, team.admin):
        item = ReviewItem.objects.get(review=review, membership=member)
        services.decide_item(actor=team.owner.user, item=item, decision="keep")
    emails.plan_reminders(now=at_day(review, 7))
    assert team.owner.pk not in {pk for pk, _kind, _day in reminders(review)}
    # ...but two days before the due date the owner is warned what the policy will do
    emails.plan_reminders(now=at_day(review, 12))
    assert (team.owner.pk, ReminderKind.TWO_DAYS, at_day(review, 12).date()) in reminders(review)


def test_at_the_due_date_the_suspend_policy_suspends_the_unanswered_members_and_closes_the_review(team):
    review = open_review(team, policy=ReviewDuePolicy.SUSPEND)
    services.decide_item(
        actor=team.admin.user,
        item=ReviewItem.objects.get(review=review, membership=team.ru_seller),
        decision="keep",
    )
    assert services.apply_due_policies(now=at_day(review, 14, hour=23)) == []  # not yet: due at the day's end
    assert services.apply_due_policies(now=at_day(review, 15, hour=0)) == [review.pk]
    assert services.apply_due_policies(now=at_day(review, 15, hour=1)) == []  # once
    review.refresh_from_db()
    assert review.status == ReviewStatus.CLOSED and review.close_reason == "policy" and review.closing_digest
    for member in (team.kz_picker, team.kz_lead, team.admin, team.service):
        member.refresh_from_db()
        assert member.status == MembershipStatus.SUSPENDED, member
        event = AuditEvent.objects.get(action="member.suspended", target_id=member.pk)
        assert event.actor_user_id is None and event.changes["reason"] == [None, "access_review_policy"]
    team.ru_seller.refresh_from_db()
    team.owner.refresh_from_db()
    assert team.ru_seller.status == MembershipStatus.ACTIVE and team.owner.status == MembershipStatus.ACTIVE
    outcomes = dict(ReviewItem.objects.filter(review=review).values_list("membership_id", "policy_outcome"))
    assert outcomes[team.kz_picker.pk] == "suspended" and outcomes[team.owner.pk] == "left"
    assert outcomes[team.ru_seller.pk] == ""
    applied = AuditEvent.objects.get(action="review.policy_applied", target_id=review.pk)
    assert applied.changes["outcomes"][1] == {"left": 1, "suspended": 4}


def test_the_remove_assignments_policy_takes_away_only_the_unanswered_roles(team):
    review = open_review(team, policy=ReviewDuePolicy.REMOVE_ASSIGNMENTS)
    from roles import services as roles_services
    from roles.models import Role

    later = roles_services.grant_role(  # given after the review opened: not under review, stays
        actor=team.owner.user,
        membership=team.kz_picker,
        role=Role.objects.get(seller=team.seller, template_key="warehouse_manager"),
        scope_kind="stores",
        stores=[team.kz_store],
    )
    services.apply_due_policies(now=at_day(review, 15, hour=1))
    assert list(Assignment.objects.filter(membership=team.kz_picker)) == [later]
    assert not Assignment.objects.filter(membership=team.ru_seller).exists()
    team.kz_picker.refresh_from_db()
    assert team.kz_picker.status == MembershipStatus.ACTIVE
    assert AuditEvent.objects.filter(action="assignment.revoked", actor_user_id=None).count() >= 5


def test_the_leave_policy_leaves_access_and_the_overdue_review_escalates_to_the_owner(team):
    review = open_review(team)
    services.apply_due_policies(now=at_day(review, 15, hour=1))
    review.refresh_from_db()
    assert review.status == ReviewStatus.OPEN and review.policy_applied_at
    assert review.is_overdue(at_day(review, 15, hour=2))
    assert set(ReviewItem.objects.filter(review=review).values_list("policy_outcome", flat=True)) == {"left"}
    team.kz_picker.refresh_from_db()
    assert team.kz_picker.status == MembershipStatus.ACTIVE
    emails.plan_reminders(now=at_day(review, 15, hour=2))
    emails.plan_reminders(now=at_day(review, 16))
    overdue = {(pk, day) for pk, kind, day in reminders(review) if kind == ReminderKind.OVERDUE}
    assert overdue == {(team.owner.pk, at_day(review, 15).date())}  # the owner alone, once
    # the owner still answers an overdue review
    item = ReviewItem.objects.get(review=review, membership=team.kz_picker)
    services.decide_item(actor=team.owner.user, item=item, decision="remove")
    team.kz_picker.refresh_from_db()
    assert team.kz_picker.status == MembershipStatus.REMOVED
