"""The one rule for acting on people and their credentials (roles.authority): a non-owner acts on a member
only holding, at the same or a wider scope, every permission that member holds; the owner is above it;
nobody acts on the owner or on themselves. Every service that acts on a member applies it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts import api_tokens, hooks
from accounts import services as accounts_services
from accounts.models import ApiToken, Membership, MembershipKind, MembershipStatus
from audit.models import AuditEvent
from ozonseat.errors import NotAllowed
from roles import services
from roles.authority import may_act_on, memberships_actor_may_act_on, require_may_act_on
from roles.models import Assignment, Role
from tests.factories import make_member, sent_invitation
from tests.roles.conftest import assert_index_clean

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def lead_with(world, *grants, permissions=("members.manage",)):
    """A member holding `permissions` for the whole seller (a custom role), and `grants` as World.member."""
    lead = world.member(*grants)
    role = Role.objects.filter(seller=world.seller, name="Lead").first() or services.create_role(
        actor=world.owner, seller=world.seller, name="Lead", permissions=list(permissions)
    )
    services.grant_role(actor=world.owner, membership=lead, role=role, scope_kind="seller")
    return lead


def refusal(actor_membership, target, permission="members.manage"):
    try:
        require_may_act_on(actor=actor_membership.user, membership=target, permission=permission)
    except NotAllowed as error:
        return error
    return None


# --- who is above, who is out of reach -----------------------------------------------------------------


def test_the_owner_may_act_on_anyone_but_themselves(world):
    admin = world.member(("administrator", "seller"))
    service = make_member(world.seller, kind=MembershipKind.SERVICE)
    services.grant_role(
        actor=world.owner, membership=service, role=world.role("administrator"), scope_kind="seller"
    )
    assert may_act_on(world.owner_membership, admin) and may_act_on(world.owner_membership, service)
    assert refusal(world.owner_membership, admin) is None
    assert not may_act_on(world.owner_membership, world.owner_membership)
    assert refusal(world.owner_membership, world.owner_membership).code == "owner"


def test_nobody_acts_on_the_owner_nor_on_themselves(world):
    admin = world.member(("administrator", "seller"))
    assert refusal(admin, world.owner_membership).code == "owner"
    assert refusal(admin, admin).code == "self"
    assert not may_act_on(admin, world.owner_membership) and not may_act_on(admin, admin)


def test_a_member_without_the_seller_permission_is_refused_and_the_missing_one_named(world):
    analyst = world.member(("analyst", "seller"))
    target = world.member()
    error = refusal(analyst, target)
    assert error.code == "not_allowed" and error.permission == "members.manage"


# --- every permission the member holds, at the same or a wider scope -----------------------------------


CASES = [
    # (the actor's grants besides members.manage for the seller, the target's grants, may act)
    ([("sales", "seller")], [("sales", "market", {"market": "RU"})], True),
    ([("sales", "market", {"market": "RU"})], [("sales", "market", {"market": "RU"})], True),
    ([("sales", "market", {"market": "RU"})], [("sales", "seller")], False),  # future KZ stores too
    ([("sales", "market", {"market": "RU"})], [("sales", "market", {"market": "KZ"})], False),
    ([("sales", "market", {"market": "RU"})], [("sales", "stores", {"stores": "ru1"})], True),
    ([("sales", "stores", {"stores": "ru1"})], [("sales", "stores", {"stores": "ru1,ru2"})], False),
    ([("sales", "stores", {"stores": "ru1"})], [("sales", "market", {"market": "RU"})], False),
    (
        [("warehouse_manager", "stores", {"stores": "ru1"})],
        [("courier_assembler", "warehouses", {"warehouses": "ru1_fbs"})],
        True,
    ),
    (
        [("courier_assembler", "warehouses", {"warehouses": "ru1_fbs"})],
        [("courier_assembler", "stores", {"stores": "ru1"})],
        False,
    ),
    ([("analyst", "seller")], [("sales", "seller")], False),  # orders.process and more missing
    ([], [], True),  # nothing held, nothing to cover
    ([], [("administrator", "seller")], False),
]


def _resolve(world, grants):
    resolved = []
    for key, scope_kind, *rest in grants:
        options = dict(rest[0]) if rest else {}
        if "stores" in options:
            options["stores"] = [getattr(world, name) for name in options["stores"].split(",")]
        if "warehouses" in options:
            options["warehouses"] = [getattr(world, name) for name in options["warehouses"].split(",")]
        resolved.append((key, scope_kind, options))
    return resolved


@pytest.mark.parametrize(("actor_grants", "target_grants", "allowed"), CASES)
def test_acting_on_a_member_needs_each_of_their_permissions_at_the_same_or_a_wider_scope(
    world, actor_grants, target_grants, allowed
):
    lead = lead_with(world, *_resolve(world, actor_grants))
    target = world.member(*_resolve(world, target_grants))
    assert may_act_on(lead, target) is allowed
    error = refusal(lead, target)
    assert (error is None) is allowed
    if not allowed:
        assert error.code == "holds_more" and error.permission
        assert target.display_name in str(error.message)


@pytest.mark.parametrize("status", [MembershipStatus.SUSPENDED, MembershipStatus.INVITED])
def test_what_a_suspended_or_invited_member_holds_counts_it_comes_back_with_them(world, status):
    lead = lead_with(world, ("sales", "seller"))
    admin = world.member(("administrator", "seller"))
    Membership.objects.filter(pk=admin.pk).update(status=status)
    admin.refresh_from_db()
    assert not may_act_on(lead, admin)
    assert refusal(lead, admin).permission in world.role("administrator").permissions


def test_a_service_account_is_a_member_like_any_other(world):
    lead = lead_with(world, permissions=("members.manage", "tokens.manage"))
    robot = api_tokens.create_service_account(actor=world.owner, seller=world.seller, name="ERP")
    assert may_act_on(lead, robot)  # it holds nothing yet
    services.grant_role(
        actor=world.owner, membership=robot, role=world.role("administrator"), scope_kind="seller"
    )
    assert not may_act_on(lead, robot)
    assert refusal(lead, robot, "tokens.manage").code == "holds_more"


def test_the_refusal_is_translated(world):
    lead = lead_with(world)
    admin = world.member(("administrator", "seller"))
    with translation.override("ru"):
        russian = str(refusal(lead, admin).message)
    with translation.override("zh-hans"):
        chinese = str(refusal(lead, admin).message)
    english = str(refusal(lead, admin).message)
    assert "You can act only on members" in english
    for translated in (russian, chinese):
        assert "You can act" not in translated and admin.display_name in translated


def test_the_list_answer_matches_the_single_one_in_a_fixed_number_of_queries(world):
    lead = lead_with(world, ("sales", "market", {"market": "RU"}))
    targets = [
        world.member(("sales", "stores", {"stores": [world.ru1]})),
        world.member(("administrator", "seller")),
        world.member(("courier_assembler", "warehouses", {"warehouses": [world.kz1_fbs]})),
        world.member(),
        world.owner_membership,
        lead,
    ]
    assert memberships_actor_may_act_on(lead, targets) == {t.pk for t in targets if may_act_on(lead, t)}
    assert memberships_actor_may_act_on(lead, targets) == {targets[0].pk, targets[3].pk}
    with CaptureQueriesContext(connection) as few:
        memberships_actor_may_act_on(lead, targets[:2])
    more = targets + [world.member(("sales", "stores", {"stores": [world.ru2]})) for _ in range(5)]
    with CaptureQueriesContext(connection) as many:
        memberships_actor_may_act_on(lead, more)
    assert len(few) == len(many) <= 6


# --- every service that acts on a member applies it ----------------------------------------------------


@pytest.fixture
def probe(world):
    """A lead holding members.manage, tokens.manage and orders.view for the whole seller; an Administrator
    (a person, with a token and an open session) and an Administrator service account with a token."""
    lead = lead_with(world, permissions=("members.manage", "tokens.manage", "orders.view"))
    admin = world.member(("administrator", "seller"))
    robot = api_tokens.create_service_account(actor=world.owner, seller=world.seller, name="ERP")
    services.grant_role(
        actor=world.owner, membership=robot, role=world.role("administrator"), scope_kind="seller"
    )
    robot_token = api_tokens.create_api_token(actor=world.owner, membership=robot, name="erp").token
    admin_token = api_tokens.create_api_token(actor=admin.user, membership=admin, name="own").token
    viewer = services.create_role(
        actor=world.owner, seller=world.seller, name="Viewer", permissions=["orders.view"]
    )
    return {
        "lead": lead,
        "admin": admin,
        "robot": robot,
        "robot_token": robot_token,
        "admin_token": admin_token,
        "viewer": viewer,
    }


def _state(world):
    return (
        sorted(
            Membership.objects.filter(seller=world.seller).values_list("pk", "status", "job_title", "ends_at")
        ),
        sorted(
            Assignment.objects.filter(membership__seller=world.seller).values_list(
                "pk", "membership_id", "role_id"
            )
        ),
        sorted(ApiToken.objects.filter(membership__seller=world.seller).values_list("pk", "revoked_at")),
        sorted(Role.objects.filter(seller=world.seller).values_list("pk", "name", "permissions")),
        AuditEvent.objects.filter(seller_id=world.seller.pk).count(),
    )


ACTIONS = {
    "edit": lambda w, p, actor: accounts_services.update_member(
        actor=actor, membership=p["admin"], job_title="Demoted"
    ),
    "suspend": lambda w, p, actor: accounts_services.suspend_member(actor=actor, membership=p["admin"]),
    "reactivate": lambda w, p, actor: accounts_services.reactivate_member(actor=actor, membership=p["admin"]),
    "remove": lambda w, p, actor: accounts_services.remove_member(actor=actor, membership=p["admin"]),
    "sign_out": lambda w, p, actor: accounts_services.sign_out_everywhere(actor=actor, membership=p["admin"]),
    "resend_invitation": lambda w, p, actor: accounts_services.resend_invitation(
        actor=actor, membership=p["admin"]
    ),
    "revoke_invitation": lambda w, p, actor: accounts_services.revoke_invitation(
        actor=actor, membership=p["admin"]
    ),
    "grant": lambda w, p, actor: services.grant_role(
        actor=actor, membership=p["admin"], role=p["viewer"], scope_kind="market", market="KZ"
    ),
    "revoke_assignment": lambda w, p, actor: services.revoke_assignment(
        actor=actor, assignment=p["admin"].assignments.get()
    ),
    "token_for_service_account": lambda w, p, actor: api_tokens.create_api_token(
        actor=actor, membership=p["robot"], name="mine now"
    ),
    "revoke_service_account_token": lambda w, p, actor: api_tokens.revoke_api_token(
        actor=actor, token=p["robot_token"]
    ),
    "revoke_members_token": lambda w, p, actor: api_tokens.revoke_api_token(
        actor=actor, token=p["admin_token"]
    ),
    "suspend_service_account": lambda w, p, actor: accounts_services.suspend_member(
        actor=actor, membership=p["robot"]
    ),
}


def _prepare(world, probe, action):
    """Put the Administrator in the state the action applies to."""
    admin = probe["admin"]
    if action == "reactivate":
        accounts_services.suspend_member(actor=world.owner, membership=admin)
    elif action in ("resend_invitation", "revoke_invitation"):
        Membership.objects.filter(pk=admin.pk).update(status=MembershipStatus.INVITED)
        admin.refresh_from_db()
        hooks.membership_changed(admin)
        sent_invitation(admin)
    elif action == "sign_out":
        from django.test import Client

        Client().force_login(admin.user)
    admin.refresh_from_db()


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_on_a_member_is_refused_to_someone_they_outrank(world, probe, action):
    _prepare(world, probe, action)
    before = _state(world)
    with pytest.raises(NotAllowed) as error:
        ACTIONS[action](world, probe, probe["lead"].user)
    assert error.value.code == "holds_more", error.value.message
    assert error.value.permission not in ("members.manage", "tokens.manage", "orders.view")
    assert _state(world) == before  # nothing written, nothing recorded
    assert_index_clean()


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_on_a_member_is_allowed_to_someone_holding_all_they_hold(world, probe, action):
    """The same lead, once the Administrator holds only what the lead holds: every action goes through."""
    for membership in (probe["admin"], probe["robot"]):
        Assignment.objects.filter(membership=membership).delete()
        services.grant_role(
            actor=world.owner,
            membership=membership,
            role=Role.objects.get(seller=world.seller, name="Lead"),
            scope_kind="seller",
        )
    _prepare(world, probe, action)
    before = AuditEvent.objects.filter(seller_id=world.seller.pk).count()
    ACTIONS[action](world, probe, probe["lead"].user)
    assert AuditEvent.objects.filter(seller_id=world.seller.pk).count() > before


def test_revoking_still_needs_holding_what_the_assignment_gives(world):
    """The rule covers every assignment of the member, the revoked one included."""
    lead = lead_with(world, ("sales", "stores", {"stores": [world.ru1]}))
    seller_wide = world.member(("sales", "market", {"market": "RU"}))
    with pytest.raises(NotAllowed) as error:
        services.revoke_assignment(actor=lead.user, assignment=seller_wide.assignments.get())
    assert error.value.code == "holds_more"
    narrow = world.member(("sales", "stores", {"stores": [world.ru1]}))
    services.revoke_assignment(actor=lead.user, assignment=narrow.assignments.get())
    assert not narrow.assignments.exists()


# --- editing a role acts on everyone holding it --------------------------------------------------------


@pytest.fixture
def role_editor(world):
    """Holds roles.manage and everything a Sales member has, for the whole seller."""
    editor = world.member(("sales", "seller"))
    keeper = services.create_role(
        actor=world.owner, seller=world.seller, name="Role keeper", permissions=["roles.manage"]
    )
    services.grant_role(actor=world.owner, membership=editor, role=keeper, scope_kind="seller")
    return editor


@pytest.mark.parametrize(
    "change",
    [
        {"permissions": ["orders.view"]},  # strip permissions
        {"name": "Renamed"},  # even a rename is a change to what every holder sees they hold
        "delete",
    ],
)
def test_a_role_held_by_someone_holding_more_cannot_be_changed(world, role_editor, change):
    analyst_role = world.role("analyst")
    world.member(("analyst", "seller"), ("administrator", "seller"))  # an Administrator also holds it
    before = _state(world)
    with pytest.raises(NotAllowed) as error:
        if change == "delete":
            services.delete_role(
                actor=role_editor.user, role=analyst_role, move_to=world.role("financial_manager")
            )
        else:
            services.update_role(actor=role_editor.user, role=analyst_role, **change)
    assert error.value.code == "holds_more"
    assert _state(world) == before


def test_a_role_held_only_by_members_the_editor_may_act_on_can_be_changed(world, role_editor):
    viewer = services.create_role(
        actor=world.owner, seller=world.seller, name="Viewer", permissions=["orders.view", "analytics.view"]
    )
    orders_only = services.create_role(
        actor=world.owner, seller=world.seller, name="Orders only", permissions=["orders.view"]
    )
    holder = world.member()
    services.grant_role(actor=world.owner, membership=holder, role=viewer, scope_kind="market", market="RU")
    services.update_role(actor=role_editor.user, role=viewer, permissions=["analytics.view"])
    assert holder.user.has_perm("roles.analytics_view", world.ru1)
    assert not holder.user.has_perm("roles.orders_view", world.ru1)
    services.delete_role(actor=role_editor.user, role=viewer, move_to=orders_only)
    assert holder.assignments.get().role == orders_only
    assert holder.user.has_perm("roles.orders_view", world.ru1)
    assert_index_clean()


def test_the_owner_holding_a_role_after_a_transfer_does_not_block_editing_it(world, role_editor):
    """The owner holds everything, whatever their assignments say: a role they kept changes nothing."""
    new_owner = world.member(("analyst", "seller"))
    accounts_services.transfer_ownership(actor=world.owner, seller=world.seller, new_owner=new_owner)
    services.update_role(actor=role_editor.user, role=world.role("analyst"), permissions=["orders.view"])
    assert world.role("analyst").permissions == ["orders.view"]
