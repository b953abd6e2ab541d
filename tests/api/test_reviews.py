"""The access review API: the same services as the dashboard, the same reach."""

import pytest

from accounts.models import MembershipStatus
from reviews.models import ReviewItem
from tests.api.conftest import client_with, token_for
from tests.reviews.conftest import build_team

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def team(db):
    return build_team()


def base(team):
    return f"/api/v1/sellers/{team.seller.pk}/reviews"


def test_the_owner_starts_a_review_and_only_one_at_a_time(team):
    owner = client_with(token_for(team.owner))
    response = owner.post(base(team), {"markets": ["KZ"]}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["selection"] == {"markets": ["KZ"]} and body["item_count"] == 4 and body["status"] == "open"
    assert body["progress"] == {
        "total": 4,
        "answered": 0,
        "waiting_for_me": 1,  # the Administrator's item: nobody else reviews a whole-seller role
        "decisions": {"keep": 0, "change": 0, "remove": 0, "suspend": 0},
    }
    again = owner.post(base(team), {}, format="json")
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"
    admin = client_with(token_for(team.admin))
    assert admin.post(base(team), {}, format="json").status_code == 403
    for body, field in (({"markets": ["XX"]}, "markets.0"), ({"colour": 1}, "colour")):
        bad = owner.post(base(team), body, format="json")
        assert bad.status_code == 400 and list(bad.json()["errors"]) == [field]


def test_a_kz_lead_lists_and_answers_only_kz_items(team):
    review = client_with(token_for(team.owner)).post(base(team), {}, format="json").json()
    lead = client_with(token_for(team.kz_lead))
    listed = lead.get(f"{base(team)}/{review['id']}/items")
    assert listed.status_code == 200
    rows = {row["membership_id"]: row for row in listed.json()["results"]}
    assert set(rows) == {team.kz_picker.pk, team.service.pk}
    picker = rows[team.kz_picker.pk]
    assert picker["recommendation"] == "remove" and picker["access"][0]["scope_kind"] == "warehouses"
    assert picker["access"][0]["granted_by_id"] == team.owner.user_id

    ru_item = ReviewItem.objects.get(review_id=review["id"], membership=team.ru_seller)
    own_item = ReviewItem.objects.get(review_id=review["id"], membership=team.kz_lead)
    for item in (ru_item, own_item):
        url = f"{base(team)}/{review['id']}/items/{item.pk}/decision"
        assert lead.post(url, {"decision": "remove"}, format="json").status_code == 404

    url = f"{base(team)}/{review['id']}/items/{picker['id']}/decision"
    invalid = lead.post(url, {"decision": "delete"}, format="json")
    assert invalid.status_code == 400 and list(invalid.json()["errors"]) == ["decision"]
    answered = lead.post(url, {"decision": "suspend", "comment": "Seasonal."}, format="json")
    assert answered.status_code == 200, answered.content
    assert (
        answered.json()["decision"] == "suspend" and answered.json()["decided_by_id"] == team.kz_lead.user_id
    )
    team.kz_picker.refresh_from_db()
    assert team.kz_picker.status == MembershipStatus.SUSPENDED
    assert lead.post(url, {"decision": "keep"}, format="json").status_code == 409

    kept = lead.post(f"{base(team)}/{review['id']}/keep-recommended")
    assert kept.status_code == 200 and kept.json() == {"kept": 1}
    detail = lead.get(f"{base(team)}/{review['id']}").json()
    assert detail["progress"]["answered"] == 2 and detail["progress"]["waiting_for_me"] == 0


def test_members_without_reviews_run_are_refused(team):
    from tests.factories import make_member

    plain = client_with(token_for(make_member(team.seller)))
    assert plain.get(base(team)).status_code == 403
