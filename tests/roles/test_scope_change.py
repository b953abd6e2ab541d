"""Changing an assignment's scope in place: one audited change, the index follows, the rule for acting on
members applies, and the confirmation says what is gained and lost."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from ozonseat.errors import Conflict, NotAllowed
from roles import matrix, services
from roles.models import Assignment
from roles.selectors import check_permission
from tests.factories import make_member
from tests.roles.conftest import assert_index_clean

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def make_role(world, name, permissions):
    return services.create_role(actor=world.owner, seller=world.seller, name=name, permissions=permissions)


def grant(world, membership, role, scope_kind, **scope):
    return services.grant_role(
        actor=world.owner, membership=membership, role=role, scope_kind=scope_kind, **scope
    )


@pytest.fixture
def picker(world):
    role = make_role(world, "T picker", ["products.view", "products.edit"])
    member = make_member(world.seller)
    assignment = grant(world, member, role, "stores", stores=[world.ru1])
    return member, assignment


def test_moving_a_member_to_another_store_is_one_audited_change_and_the_index_follows(world, picker):
    member, assignment = picker
    before = AuditEvent.objects.filter(seller_id=world.seller.pk).count()
    services.change_assignment_scope(
        actor=world.owner, assignment=assignment, scope_kind="stores", stores=[world.kz1]
    )
    assert Assignment.objects.filter(membership=member).count() == 1
    assignment.refresh_from_db()
    assert [s.pk for s in assignment.stores.all()] == [world.kz1.pk]
    events = AuditEvent.objects.filter(seller_id=world.seller.pk).order_by("sequence")[before:]
    assert [e.action for e in events] == ["assignment.scope_changed"]
    assert events[0].target_id == member.pk
    assert events[0].changes == {
        "assignment_id": [assignment.pk, assignment.pk],
        "role_id": [assignment.role_id, assignment.role_id],
        "scope_kind": ["stores", "stores"],
        "market": ["", ""],
        "store_ids": [[world.ru1.pk], [world.kz1.pk]],
        "warehouse_ids": [[], []],
    }
    assert member.user.has_perm("roles.products_edit", world.kz1)
    assert not member.user.has_perm("roles.products_edit", world.ru1)
    assert check_permission(
        user=member.user, seller=world.seller, permission="products.edit", target=world.kz1
    )
    assert_index_clean()


def test_the_same_scope_changes_nothing_and_records_nothing(world, picker):
    _member, assignment = picker
    before = AuditEvent.objects.count()
    services.change_assignment_scope(
        actor=world.owner, assignment=assignment, scope_kind="stores", stores=[world.ru1.pk]
    )
    assert AuditEvent.objects.count() == before


def test_a_scope_the_member_already_holds_the_role_at_is_a_conflict(world, picker):
    member, assignment = picker
    grant(world, member, assignment.role, "market", market="KZ")
    with pytest.raises(Conflict):
        services.change_assignment_scope(
            actor=world.owner, assignment=assignment, scope_kind="market", market="KZ"
        )


def test_a_market_lead_cannot_widen_a_scope_beyond_what_they_hold(world, picker):
    member, assignment = picker
    lead_role = make_role(world, "T lead", ["members.manage", "products.view", "products.edit"])
    lead = make_member(world.seller)
    grant(world, lead, lead_role, "seller")
    # A lead who holds products.edit only on RU stores (through a second, narrower member manager).
    narrow = make_member(world.seller)
    manager = make_role(world, "T manager", ["members.manage"])
    grant(world, narrow, manager, "seller")
    grant(
        world,
        narrow,
        make_role(world, "T RU editor", ["products.view", "products.edit"]),
        "market",
        market="RU",
    )
    services.change_assignment_scope(
        actor=narrow.user, assignment=assignment, scope_kind="stores", stores=[world.ru2]
    )
    with pytest.raises(NotAllowed) as refused:
        services.change_assignment_scope(
            actor=narrow.user, assignment=assignment, scope_kind="market", market="KZ"
        )
    assert refused.value.code == "escalation"
    with pytest.raises(NotAllowed):
        services.change_assignment_scope(actor=narrow.user, assignment=assignment, scope_kind="seller")
    # Acting on someone holding more than the actor is refused whatever the new scope.
    lead_assignment = Assignment.objects.get(membership=lead, role=lead_role)
    with pytest.raises(NotAllowed):
        services.change_assignment_scope(actor=narrow.user, assignment=lead_assignment, scope_kind="seller")
    assignment.refresh_from_db()
    assert [s.pk for s in assignment.stores.all()] == [world.ru2.pk]
    assert member.pk != lead.pk


def test_nobody_changes_their_own_scope(world):
    manager = make_member(world.seller)
    assignment = grant(world, manager, make_role(world, "T m", ["members.manage"]), "seller")
    with pytest.raises(NotAllowed):
        services.change_assignment_scope(actor=manager.user, assignment=assignment, scope_kind="seller")


def test_the_change_says_what_is_gained_and_lost_leaving_out_what_other_roles_give(world, picker):
    member, assignment = picker
    # Another role already gives products.view on the KZ store: it is not "gained".
    grant(world, member, make_role(world, "T viewer", ["products.view"]), "stores", stores=[world.kz1])
    change = matrix.scope_change(
        assignment, scope_kind="stores", market=None, stores=[world.kz1], warehouses=[]
    )
    assert change.gained == [("KZ one", [matrix.catalog.get("products.edit")])]
    assert change.lost == [
        ("RU one", [matrix.catalog.get("products.view"), matrix.catalog.get("products.edit")])
    ]


def test_the_dashboard_confirms_gained_and_lost_then_changes(client, world, picker):
    member, assignment = picker
    client.force_login(world.owner)
    url = reverse("roles:assignment_scope", args=[world.seller.pk, assignment.pk])
    assert client.get(url).status_code == 200
    preview = client.post(url, {"scope_kind": "stores", "stores": [world.kz1.pk]})
    page = preview.content.decode()
    assert "KZ one" in page and "RU one" in page and 'name="confirm"' in page
    assignment.refresh_from_db()
    assert [s.pk for s in assignment.stores.all()] == [world.ru1.pk]  # nothing changed yet
    done = client.post(url, {"scope_kind": "stores", "stores": [world.kz1.pk], "confirm": "1"})
    assert done.status_code == 302
    assert [s.pk for s in assignment.stores.all()] == [world.kz1.pk]
    member_page = client.get(reverse("accounts:member", args=[world.seller.pk, member.pk])).content.decode()
    assert url in member_page


def test_the_api_answers_a_dry_run_and_then_changes(world, picker):
    from rest_framework.test import APIClient

    _member, assignment = picker
    api = APIClient()
    api.force_authenticate(world.owner)
    url = reverse("api:assignment-scope", args=[world.seller.pk, assignment.pk])
    body = {"scope_kind": "market", "market": "KZ", "dry_run": True}
    answer = api.post(url, body, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["changed"] is False
    assert answer.json()["gained"][0]["place"] == "KZ one"
    assert {"place": "RU one", "permissions": ["products.view", "products.edit"]} in answer.json()["lost"]
    assignment.refresh_from_db()
    assert assignment.scope_kind == "stores"
    answer = api.post(url, {**body, "dry_run": False}, format="json")
    assert answer.status_code == 200 and answer.json()["assignment"]["scope_kind"] == "market"
    bad = api.post(url, {"scope_kind": "stores", "store_ids": []}, format="json")
    assert bad.status_code == 400
