"""Reviewers decide through the accounts and roles services; scoping; no self-review; closing."""

import pytest
from django.test import Client

from accounts.api_tokens import authenticate_api_token
from accounts.models import MembershipStatus, User
from audit.models import AuditEvent
from audit.verification import verify_chain
from ozonseat.errors import Conflict, InvalidInput, NotAllowed, NotFound
from reviews import opening, selectors, services
from reviews.models import AccessReview, ReviewItem, ReviewStatus
from roles.models import Assignment
from tests.reviews.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def review(team):
    [review_id] = opening.open_due_reviews(now=NOW)
    return AccessReview.objects.select_related("seller").get(pk=review_id)


def item_of(review, membership):
    return ReviewItem.objects.select_related("review__seller").get(review=review, membership=membership)


def test_a_kz_lead_never_sees_an_ru_members_item(team, review):
    queue = selectors.review_queue(review, team.kz_lead, state="all")
    assert set(queue.values_list("membership_id", flat=True)) == {team.kz_picker.pk, team.service.pk}
    ru_item = item_of(review, team.ru_seller)
    with pytest.raises(NotFound):
        selectors.get_item_for_reviewer(team.seller, team.kz_lead, ru_item.pk)
    with pytest.raises(NotAllowed):
        services.decide_item(actor=team.kz_lead.user, item=ru_item, decision="remove")
    team.ru_seller.refresh_from_db()
    assert team.ru_seller.status == MembershipStatus.ACTIVE


def test_nobody_reviews_their_own_access(team, review):
    own = item_of(review, team.kz_lead)
    assert not selectors.review_queue(review, team.kz_lead, state="all").filter(pk=own.pk).exists()
    with pytest.raises(NotAllowed):
        services.decide_item(actor=team.kz_lead.user, item=own, decision="keep")
    admin_own = item_of(review, team.admin)
    with pytest.raises(NotAllowed):  # the whole-seller reviewer neither
        services.decide_item(actor=team.admin.user, item=admin_own, decision="keep")
    assert ReviewItem.objects.get(pk=own.pk).decision == ""


def test_the_owners_item_goes_to_the_owner_who_can_only_confirm_it(team, review):
    own = item_of(review, team.owner)
    assert selectors.review_queue(review, team.owner, mine=True).filter(pk=own.pk).exists()
    with pytest.raises(InvalidInput):
        services.decide_item(actor=team.owner.user, item=own, decision="remove")
    services.decide_item(actor=team.owner.user, item=own, decision="keep", comment="Still mine.")
    own.refresh_from_db()
    assert own.decision == "keep" and own.decided_by == team.owner.user and own.comment == "Still mine."


def test_remove_ends_sessions_and_tokens_at_once_through_the_accounts_service(team, review):
    browser = Client()
    browser.force_login(team.service.user)  # a session, as far as Django is concerned
    stamp = User.objects.get(pk=team.service.user_id).session_stamp
    assert authenticate_api_token(team.token_secret) is not None

    item = item_of(review, team.service)
    services.decide_item(actor=team.kz_lead.user, item=item, decision="remove", comment="Old app.")

    team.service.refresh_from_db()
    assert team.service.status == MembershipStatus.REMOVED
    assert User.objects.get(pk=team.service.user_id).session_stamp != stamp
    assert authenticate_api_token(team.token_secret) is None
    response = Client().get(
        f"/api/v1/sellers/{team.seller.pk}/members", HTTP_AUTHORIZATION=f"Bearer {team.token_secret}"
    )
    assert response.status_code == 401
    removed = AuditEvent.objects.get(action="member.removed", target_id=team.service.pk)
    assert removed.actor_user_id == team.kz_lead.user_id
    assert removed.changes["reason"] == [None, "access_review"]
    decided = AuditEvent.objects.get(action="review.item_decided", target_id=team.service.pk)
    assert decided.changes["decision"] == [None, "remove"] and decided.changes["item_id"] == [None, item.pk]


def test_suspend_goes_through_the_accounts_service(team, review):
    services.decide_item(actor=team.admin.user, item=item_of(review, team.ru_seller), decision="suspend")
    team.ru_seller.refresh_from_db()
    assert team.ru_seller.status == MembershipStatus.SUSPENDED
    event = AuditEvent.objects.get(action="member.suspended", target_id=team.ru_seller.pk)
    assert event.actor_user_id == team.admin.user_id and event.changes["reason"] == [None, "access_review"]


def test_change_takes_roles_away_and_records_what_changed(team, review):
    item = item_of(review, team.kz_picker)
    with pytest.raises(InvalidInput):  # nothing changed yet
        services.decide_item(actor=team.kz_lead.user, item=item, decision="change")
    assignment = Assignment.objects.get(membership=team.kz_picker)
    services.decide_item(
        actor=team.kz_lead.user, item=item, decision="change", remove_assignment_ids=[assignment.pk]
    )
    item.refresh_from_db()
    assert not Assignment.objects.filter(membership=team.kz_picker).exists()
    assert [a["assignment_id"] for a in item.changed["removed"]] == [assignment.pk]
    assert item.changed["added"] == []
    event = AuditEvent.objects.get(action="assignment.revoked", target_id=team.kz_picker.pk)
    assert event.actor_user_id == team.kz_lead.user_id


def test_change_records_roles_given_on_the_members_page_since_opening(team, review):
    from roles import services as roles_services
    from roles.models import Role

    role = Role.objects.get(seller=team.seller, template_key="warehouse_manager")
    roles_services.grant_role(
        actor=team.owner.user,
        membership=team.kz_picker,
        role=role,
        scope_kind="stores",
        stores=[team.kz_store],
    )
    item = item_of(review, team.kz_picker)
    services.decide_item(actor=team.owner.user, item=item, decision="change", comment="Now a warehouse lead.")
    item.refresh_from_db()
    assert [a["role_id"] for a in item.changed["added"]] == [role.pk] and item.changed["removed"] == []


def test_a_member_cannot_change_roles_of_another_member_through_a_review(team, review):
    item = item_of(review, team.kz_picker)
    foreign = Assignment.objects.get(membership=team.ru_seller)
    with pytest.raises(InvalidInput):
        services.decide_item(
            actor=team.kz_lead.user, item=item, decision="change", remove_assignment_ids=[foreign.pk]
        )
    assert Assignment.objects.filter(pk=foreign.pk).exists()


def test_an_item_is_answered_once(team, review):
    item = item_of(review, team.ru_seller)
    services.decide_item(actor=team.admin.user, item=item, decision="keep")
    with pytest.raises(Conflict):
        services.decide_item(actor=team.owner.user, item=item, decision="remove")


def test_a_reviewer_who_lost_reviews_run_can_no_longer_decide(team, review):
    from roles import services as roles_services

    roles_services.revoke_assignment(
        actor=team.owner.user, assignment=Assignment.objects.get(membership=team.kz_lead)
    )
    with pytest.raises(NotAllowed):
        services.decide_item(actor=team.kz_lead.user, item=item_of(review, team.kz_picker), decision="keep")


def test_keep_all_recommended_keeps_only_the_reviewers_keep_items_and_records_each(team, review):
    kept = services.keep_recommended(actor=team.admin.user, review=review)
    decided = dict(
        ReviewItem.objects.filter(review=review).exclude(decision="").values_list("membership_id", "decision")
    )
    # the Administrator's queue: picker (remove), service (keep), RU seller (keep), KZ lead (keep)
    assert decided == {team.service.pk: "keep", team.ru_seller.pk: "keep", team.kz_lead.pk: "keep"}
    assert kept == 3
    assert (
        AuditEvent.objects.filter(action="review.item_decided", actor_user_id=team.admin.user_id).count() == 3
    )


def test_the_review_closes_when_every_item_is_answered_with_the_audit_digest(team, review):
    services.keep_recommended(actor=team.owner.user, review=review)
    left = ReviewItem.objects.filter(review=review, decision="")
    assert set(left.values_list("membership_id", flat=True)) == {team.kz_picker.pk, team.admin.pk}
    services.decide_item(actor=team.owner.user, item=item_of(review, team.admin), decision="keep")
    services.decide_item(actor=team.kz_lead.user, item=item_of(review, team.kz_picker), decision="remove")
    review.refresh_from_db()
    assert review.status == ReviewStatus.CLOSED and review.close_reason == "answered"
    assert review.closed_by == team.kz_lead.user
    closed = AuditEvent.objects.get(action="review.closed", target_id=review.pk)
    assert review.closing_digest == f"{team.seller.pk}:{closed.sequence}:{closed.hash}"
    report = verify_chain(team.seller.pk)
    assert report.ok and report.digest == review.closing_digest  # nothing was appended since
    with pytest.raises(Conflict):
        services.decide_item(actor=team.owner.user, item=item_of(review, team.owner), decision="keep")


def test_the_owner_closes_a_review_and_unanswered_items_stay_unanswered(team, review):
    with pytest.raises(NotAllowed):
        services.close_review(actor=team.admin.user, review=review)
    services.close_review(actor=team.owner.user, review=review)
    review.refresh_from_db()
    assert review.status == ReviewStatus.CLOSED and review.close_reason == "owner"
    assert ReviewItem.objects.filter(review=review, decision="").count() == review.item_count


def test_a_reviewer_changes_only_the_access_of_members_holding_nothing_more_than_they_do(team):
    """roles.authority's rule for acting on people applies to reviewers: a KZ lead whose role lacks a
    permission the picker holds is not asked about the picker (the owner is), may keep but not remove."""
    from roles import services as roles_services

    roles_services.update_role(
        actor=team.owner.user,
        role=team.lead_role,
        permissions=[p for p in team.lead_role.permissions if p != "warehouse.shipments.manage"],
    )
    [review_id] = opening.open_due_reviews(now=NOW)
    review = AccessReview.objects.get(pk=review_id)
    picker = item_of(review, team.kz_picker)
    assert set(picker.reviewers.values_list("membership_id", flat=True)) == {team.admin.pk}
    assert not selectors.review_queue(review, team.kz_lead, state="all").filter(pk=picker.pk).exists()
    # still within the lead's reach: the lead may look and keep...
    with pytest.raises(NotAllowed) as refused:
        services.decide_item(actor=team.kz_lead.user, item=picker, decision="remove")
    assert refused.value.code == "holds_more"
    team.kz_picker.refresh_from_db()
    assert team.kz_picker.status == MembershipStatus.ACTIVE
    services.decide_item(actor=team.kz_lead.user, item=picker, decision="keep")
