import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Invitation, Membership, MembershipStatus
from audit.models import AuditEvent
from tests.api.conftest import assert_problem, url
from tests.factories import MembershipFactory, UserFactory, make_member

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def invite(api, seller, email="new@example.com", **extra):
    headers = {key: value for key, value in extra.items() if key.startswith("HTTP_")}
    fields = {key: value for key, value in extra.items() if not key.startswith("HTTP_")}
    payload = {"email": email, "display_name": "New Person", **fields}
    return api.post(url(seller, "members"), payload, format="json", **headers)


def test_list_filters_by_status_and_search(owner_api, seller):
    make_member(seller, user=UserFactory(display_name="Anna Picker"), job_title="warehouse")
    make_member(seller, user=UserFactory(display_name="Boris"), status=MembershipStatus.SUSPENDED)
    body = owner_api.get(url(seller, "members")).json()
    assert body["count"] == 3 and len(body["results"]) == 3
    suspended = owner_api.get(url(seller, "members"), {"status": "suspended"}).json()
    assert [m["user"]["display_name"] for m in suspended["results"]] == ["Boris"]
    found = owner_api.get(url(seller, "members"), {"search": "picker"}).json()
    assert [m["user"]["display_name"] for m in found["results"]] == ["Anna Picker"]
    assert_problem(owner_api.get(url(seller, "members"), {"status": "bogus"}), 400)
    assert_problem(owner_api.get(url(seller, "members"), {"colour": "red"}), 400)
    paged = owner_api.get(url(seller, "members"), {"page_size": 2}).json()
    assert len(paged["results"]) == 2 and paged["next"]


def test_member_list_is_readable_by_any_member_but_not_another_seller(plain_api, seller, other_seller):
    assert plain_api.get(url(seller, "members")).status_code == 200
    assert_problem(plain_api.get(url(other_seller[0], "members")), 404)


def test_invite_calls_the_service_and_is_audited(
    owner_api, seller, owner, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(owner_api, seller, job_title="Support")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "invited" and body["job_title"] == "Support"
    membership = Membership.objects.get(pk=body["id"])
    assert Invitation.objects.filter(membership=membership).count() == 1
    event = AuditEvent.objects.get(action="member.invited", target_id=membership.pk)
    assert event.actor_user_id == owner.pk
    assert len(outbox) == 1


def test_invite_denied_without_permission(plain_api, seller):
    assert_problem(invite(plain_api, seller), 403)
    assert not Membership.objects.filter(user__email="new@example.com").exists()


def test_idempotent_invite_returns_the_first_result_and_invites_once(
    owner_api, seller, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = invite(owner_api, seller, HTTP_IDEMPOTENCY_KEY="retry-1")
        again = invite(owner_api, seller, HTTP_IDEMPOTENCY_KEY="retry-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Membership.objects.filter(user__email="new@example.com").count() == 1
    assert AuditEvent.objects.filter(action="member.invited").count() == 1
    assert len(outbox) == 1
    # the same key with another body is refused
    other = invite(owner_api, seller, email="other@example.com", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert_problem(other, 422, "idempotency-key-reused")
    assert not Membership.objects.filter(user__email="other@example.com").exists()
    # without a key, a second invite is a conflict, not a silent duplicate
    assert_problem(invite(owner_api, seller), 409)


def test_idempotency_key_is_per_membership(owner_api, seller, owner_membership):
    from tests.api.conftest import client_with, token_for

    manager = make_member(seller)
    # another caller using the same key does not get the owner's stored answer
    invite(owner_api, seller, HTTP_IDEMPOTENCY_KEY="k")
    response = invite(client_with(token_for(manager)), seller, HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code in (403, 409)
    assert "Idempotent-Replayed" not in response


def test_failed_request_with_key_can_be_retried(owner_api, seller):
    bad = owner_api.post(url(seller, "members"), {"email": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert bad.status_code == 400
    good = owner_api.post(url(seller, "members"), {"email": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert good.status_code == 400 and "Idempotent-Replayed" not in good


def test_member_lifecycle_through_the_api(owner_api, seller):
    member = make_member(seller)
    base = url(seller, f"members/{member.pk}")
    assert owner_api.get(base).json()["id"] == member.pk
    edited = owner_api.patch(base, {"job_title": "Packer"}, format="json")
    assert edited.status_code == 200 and edited.json()["job_title"] == "Packer"
    assert owner_api.post(base + "/suspend").json()["status"] == "suspended"
    assert_problem(owner_api.post(base + "/suspend"), 409)
    assert owner_api.post(base + "/reactivate").json()["status"] == "active"
    assert owner_api.post(base + "/remove").json()["status"] == "removed"
    actions = list(
        AuditEvent.objects.filter(target_id=member.pk, target_type="membership")
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == ["member.updated", "member.suspended", "member.reactivated", "member.removed"]


def test_resend_and_revoke_invitation(owner_api, seller):
    created = invite(owner_api, seller).json()
    base = url(seller, f"members/{created['id']}")
    assert owner_api.post(base + "/resend-invitation").json()["status"] == "invited"
    assert Invitation.objects.filter(membership_id=created["id"], revoked_at__isnull=False).count() == 1
    assert owner_api.post(base + "/revoke-invitation").json()["status"] == "removed"
    assert AuditEvent.objects.filter(action="invitation.revoked", target_id=created["id"]).exists()


def test_member_actions_refuse_extra_body_fields(owner_api, seller):
    member = make_member(seller)
    response = owner_api.post(url(seller, f"members/{member.pk}/suspend"), {"force": True}, format="json")
    assert_problem(response, 400)
    member.refresh_from_db()
    assert member.status == MembershipStatus.ACTIVE


def test_member_writes_denied_and_cross_seller(plain_api, owner_api, seller, other_seller):
    other, _other_owner = other_seller
    foreign = make_member(other)
    mine = make_member(seller)
    for action in ("suspend", "reactivate", "remove", "resend-invitation", "revoke-invitation"):
        assert_problem(plain_api.post(url(seller, f"members/{mine.pk}/{action}")), 403)
        assert_problem(owner_api.post(url(seller, f"members/{foreign.pk}/{action}")), 404)
    assert_problem(
        owner_api.patch(url(seller, f"members/{foreign.pk}"), {"job_title": "x"}, format="json"), 404
    )
    foreign.refresh_from_db()
    assert foreign.status == MembershipStatus.ACTIVE and foreign.job_title == ""


def _list_queries(api, seller):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url(seller, "members"), {"page_size": 200})
    assert response.status_code == 200
    return len(queries)


def test_members_list_query_count_does_not_grow_with_members(owner_api, seller):
    for _ in range(4):
        make_member(seller)
    _list_queries(owner_api, seller)  # the token's first use records last_used_at once
    small = _list_queries(owner_api, seller)
    MembershipFactory.create_batch(495, seller=seller)
    assert Membership.objects.filter(seller=seller).count() == 500
    assert _list_queries(owner_api, seller) == small
