"""Reviews open on schedule, once; the owner starts one now; each item holds the member's access."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.models import MembershipKind
from audit.models import AuditEvent
from reviews import opening, services
from reviews.models import AccessReview, ItemReviewer, ReviewItem, ReviewStatus
from tests.factories import make_seller
from tests.reviews.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_beat_opens_one_review_when_the_interval_has_passed_however_often_it_ticks(team):
    young, _owner = make_seller("Young shop")  # created "now": its interval has not passed
    assert opening.open_due_reviews(now=NOW) != []
    assert opening.open_due_reviews(now=NOW) == []
    assert opening.open_due_reviews(now=NOW + timedelta(minutes=5)) == []
    [review] = AccessReview.objects.filter(seller=team.seller)
    assert review.status == ReviewStatus.OPEN and review.trigger == "scheduled" and review.covers_everyone
    assert not AccessReview.objects.filter(seller=young).exists()
    assert AuditEvent.objects.filter(seller_id=team.seller.pk, action="review.opened").count() == 1


def test_the_next_review_opens_an_interval_after_the_last_one_started(team):
    [first] = opening.open_due_reviews(now=NOW)
    services.close_review(actor=team.owner.user, review=AccessReview.objects.get(pk=first), now=NOW)
    interval = team.seller.access_review_interval_days
    assert opening.open_due_reviews(now=NOW + timedelta(days=interval - 1)) == []
    assert len(opening.open_due_reviews(now=NOW + timedelta(days=interval))) == 1


def test_an_open_review_blocks_a_second_one(team):
    opening.open_due_reviews(now=NOW)
    from ozonseat.errors import Conflict

    with pytest.raises(Conflict):
        opening.start_review(actor=team.owner.user, seller=team.seller, now=NOW)


def test_the_schedule_is_in_the_sellers_time_zone(team):
    # 20:00 UTC on 2 March is 01:00 on 3 March in Almaty (UTC+5): the review opens on the 3rd.
    [review_id] = opening.open_due_reviews(now=NOW.replace(hour=20))
    review = AccessReview.objects.get(pk=review_id)
    length = team.seller.access_review_length_days
    assert review.opened_on.isoformat() == "2026-03-03"
    assert review.due_on == review.opened_on + timedelta(days=length)
    assert review.halfway_on == review.opened_on + timedelta(days=length // 2)
    almaty = review.due_at.astimezone(ZoneInfo("Asia/Almaty"))
    assert almaty.isoformat() == (review.due_on + timedelta(days=1)).isoformat() + "T00:00:00+05:00"


def test_an_item_per_member_and_service_account_with_their_access_tokens_and_a_recommendation(team):
    [review_id] = opening.open_due_reviews(now=NOW)
    items = {item.membership_id: item for item in ReviewItem.objects.filter(review_id=review_id)}
    expected = {
        m.pk for m in (team.owner, team.admin, team.kz_lead, team.kz_picker, team.ru_seller, team.service)
    }
    assert set(items) == expected
    picker = items[team.kz_picker.pk]
    [grant] = picker.access
    assert grant["role_name"] == "Courier / Assembler" and grant["scope_kind"] == "warehouses"
    assert grant["warehouse_ids"] == [team.kz_warehouse.pk]
    assert grant["granted_by_id"] == team.owner.user_id and grant["granted_at"]
    assert picker.recommendation == "remove" and picker.recommendation_reason == "inactive"
    assert picker.recommendation_days == 50
    service = items[team.service.pk]
    assert service.kind == MembershipKind.SERVICE
    assert [token["name"] for token in service.tokens] == ["picking"] and service.tokens[0]["usable"]
    assert items[team.admin.pk].recommendation == "check"  # holds Administrator
    assert items[team.admin.pk].recommendation_reason == "powerful_role"
    assert items[team.ru_seller.pk].recommendation == "keep"
    assert items[team.owner.pk].recommendation_reason == "owner"


def test_each_item_goes_to_the_reviewers_whose_reach_covers_it(team):
    [review_id] = opening.open_due_reviews(now=NOW)
    asked = {}
    for item_id, membership_id in ItemReviewer.objects.filter(review_id=review_id).values_list(
        "item__membership_id", "membership_id"
    ):
        asked.setdefault(item_id, set()).add(membership_id)
    # the KZ picker and the KZ service account: the KZ lead and the whole-seller Administrator
    assert asked[team.kz_picker.pk] == {team.kz_lead.pk, team.admin.pk}
    assert asked[team.service.pk] == {team.kz_lead.pk, team.admin.pk}
    # the RU seller: not the KZ lead
    assert asked[team.ru_seller.pk] == {team.admin.pk}
    # nobody reviews themselves: the Administrator's item goes to the owner
    assert asked[team.admin.pk] == {team.owner.pk}
    assert asked[team.kz_lead.pk] == {team.admin.pk}
    # the owner's own item goes to the owner
    assert asked[team.owner.pk] == {team.owner.pk}


def test_the_owner_starts_a_review_of_a_market(team):
    review = opening.start_review(actor=team.owner.user, seller=team.seller, markets=["KZ"], now=NOW)
    members = set(ReviewItem.objects.filter(review=review).values_list("membership_id", flat=True))
    # KZ's people, and those whose role covers the whole seller (it reaches KZ too)
    assert members == {team.kz_lead.pk, team.kz_picker.pk, team.service.pk, team.admin.pk}
    assert not review.covers_everyone and review.selection == {"markets": ["KZ"]}
    assert review.started_by == team.owner.user and review.trigger == "manual"


def test_the_owner_starts_a_review_of_chosen_members_and_only_the_owner_may(team):
    from ozonseat.errors import InvalidInput, NotAllowed

    with pytest.raises(NotAllowed):
        opening.start_review(actor=team.admin.user, seller=team.seller, now=NOW)
    other, _owner = make_seller("Other")
    stranger = other.memberships.get()
    with pytest.raises(InvalidInput):
        opening.start_review(actor=team.owner.user, seller=team.seller, member_ids=[stranger.pk], now=NOW)
    assert not AccessReview.objects.exists()  # nothing half-written
    review = opening.start_review(
        actor=team.owner.user, seller=team.seller, member_ids=[team.ru_seller.pk], now=NOW
    )
    assert list(ReviewItem.objects.filter(review=review).values_list("membership_id", flat=True)) == [
        team.ru_seller.pk
    ]


def test_a_partial_review_does_not_restart_the_schedule(team):
    review = opening.start_review(actor=team.owner.user, seller=team.seller, markets=["RU"], now=NOW)
    services.close_review(actor=team.owner.user, review=review, now=NOW)
    assert len(opening.open_due_reviews(now=NOW + timedelta(hours=1))) == 1
