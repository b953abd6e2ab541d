"""roles.visibility.visible_member_ids (the lean subquery the overview cards and the API's assignments list
filter by) names exactly the members visible_members lists, for every kind of viewer."""

from accounts.models import MembershipStatus
from tests.factories import make_member


def test_visible_member_ids_are_the_visible_members(world):
    from roles import services as roles_services
    from roles import visibility

    owner, seller = world["owner"], world["seller"]
    kz = roles_services.add_store(
        actor=owner.user, seller=seller, name="Almaty store", client_id="654321", market="KZ"
    )
    lead, kz_clerk = make_member(seller), make_member(seller)
    removed = make_member(seller, status=MembershipStatus.REMOVED)
    people = roles_services.create_role(
        actor=owner.user, seller=seller, name="People lead", permissions=["members.view"]
    )
    roles_services.grant_role(
        actor=owner.user, membership=lead, role=people, scope_kind="market", market="KZ"
    )
    roles_services.grant_role(
        actor=owner.user,
        membership=kz_clerk,
        role=world["roles"]["analyst"],
        scope_kind="stores",
        stores=[kz.pk],
    )
    seen = {}
    for name, viewer in (
        ("owner", owner),
        ("analyst", world["analyst"]),
        ("lead", lead),
        ("clerk", world["clerk"]),
    ):
        ids = set(visibility.visible_member_ids(seller, viewer).values_list("pk", flat=True))
        assert ids == set(visibility.visible_members(seller, viewer).values_list("pk", flat=True)), name
        seen[name] = ids
    assert removed.pk not in seen["owner"] and kz_clerk.pk in seen["owner"]
    assert seen["lead"] == {lead.pk, kz_clerk.pk}  # within KZ, and themselves
    assert seen["clerk"] == {world["clerk"].pk}
