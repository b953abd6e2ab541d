"""The beat ticks whenever it likes: in the e2e tests, two beats every second while the test builds its team.
A tick in the middle of `build_team` must not open a review of half a team (it did: the review held the
owner alone, and only the owner was reminded). Here the ticks run in a thread with its own database
connection, the way the beat's worker does, at several points of the building; no Celery needed."""

import threading

import pytest
from django.db import connection

from accounts import api_tokens
from reviews import emails, opening
from reviews.models import AccessReview, ItemReviewer, ReviewItem, ReviewReminder
from roles import services as roles_services
from tests.reviews.conftest import NOW, build_team

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def tick_elsewhere() -> list[int]:
    """One beat tick, on another connection: it sees only what is committed."""
    opened = []

    def run():
        try:
            opened.extend(opening.open_due_reviews(now=NOW))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    return opened


def test_a_beat_ticking_while_the_team_is_built_opens_one_review_of_the_whole_team(monkeypatch):
    ticks = []

    def ticking(function):
        def wrapper(*args, **kwargs):
            result = function(*args, **kwargs)
            ticks.append(tick_elsewhere())
            return result

        return wrapper

    monkeypatch.setattr(roles_services, "grant_role", ticking(roles_services.grant_role))
    monkeypatch.setattr(api_tokens, "create_api_token", ticking(api_tokens.create_api_token))
    team = build_team()
    assert len(ticks) == 6 and ticks == [[]] * 6  # no review opened while the team was half built
    assert AccessReview.objects.count() == 0

    [review_id] = tick_elsewhere()
    members = (team.owner, team.admin, team.kz_lead, team.kz_picker, team.ru_seller, team.service)
    assert sorted(ReviewItem.objects.filter(review_id=review_id).values_list("membership_id", flat=True)) == (
        sorted(m.pk for m in members)
    )
    # Every reviewer is asked about someone, so each is reminded: the owner (the Administrator's item),
    # the Administrator, the KZ lead (the picker and the KZ service account).
    reviewers = set(ItemReviewer.objects.filter(review_id=review_id).values_list("membership_id", flat=True))
    assert reviewers == {team.owner.pk, team.admin.pk, team.kz_lead.pk}
    assert emails.plan_reminders(now=NOW) == 3
    assert set(ReviewReminder.objects.values_list("recipient_id", flat=True)) == reviewers
    assert tick_elsewhere() == []
