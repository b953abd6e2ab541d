"""When things happen in a review, as pure functions of `now` (no clock is read here).

Dates are days in the seller's time zone: a review opened on day D with a length of L days is due at the
end of day D + L; reviewers are reminded on D, at D + L // 2, two days before the due date and on it."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .models import ReminderKind


@dataclass(frozen=True)
class Plan:
    opened_on: date
    halfway_on: date
    due_on: date
    due_at: datetime


def local_date(moment: datetime, time_zone: str) -> date:
    return moment.astimezone(ZoneInfo(time_zone)).date()


def plan(opened_at: datetime, time_zone: str, length_days: int) -> Plan:
    opened_on = local_date(opened_at, time_zone)
    due_on = opened_on + timedelta(days=length_days)
    # The due moment: the first instant of the day after the due date, there.
    due_at = datetime.combine(due_on + timedelta(days=1), time.min, tzinfo=ZoneInfo(time_zone))
    return Plan(opened_on, opened_on + timedelta(days=length_days // 2), due_on, due_at)


def milestone(review, today: date) -> str:
    """The latest reminder a review has reached on `today`. A day the beat missed is caught up the next
    day, unless a later milestone has been reached by then."""
    if today > review.due_on:
        return ReminderKind.OVERDUE
    if today == review.due_on:
        return ReminderKind.DUE
    if today >= review.due_on - timedelta(days=2):
        return ReminderKind.TWO_DAYS
    if today >= review.halfway_on:
        return ReminderKind.HALFWAY
    return ReminderKind.OPENED


def review_is_due(*, last_started_at: datetime, interval_days: int, now: datetime) -> bool:
    """The schedule: a review of everyone opens once `interval_days` have passed since the last one started
    (or since the seller was created)."""
    return now >= last_started_at + timedelta(days=interval_days)
