"""Concurrent changes of one seller never leave the index behind the assignments."""

import threading

import pytest
from django.db import connection

from roles import services
from tests.roles.conftest import World, assert_index_clean

pytestmark = [pytest.mark.postgres]


def run_together(calls) -> list:
    """Run each call in its own thread (and database connection), all released at once; the errors."""
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(call):
        try:
            barrier.wait(timeout=10)
            call()
        except Exception as error:  # returned to the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_store_added_while_a_whole_seller_role_is_granted_ends_with_an_exact_index():
    world = World()
    members = [world.member() for _ in range(4)]
    calls = [
        lambda m=m: services.grant_role(
            actor=world.owner, membership=m, role=world.role("analyst"), scope_kind="seller"
        )
        for m in members
    ]
    calls.append(
        lambda: services.add_store(
            actor=world.owner, seller=world.seller, name="Late", client_id="31337", market="RU"
        )
    )
    assert run_together(calls) == []
    assert_index_clean()
    from roles.models import Store

    late = Store.objects.get(client_id="31337")
    for member in members:
        user = type(member.user).objects.get(pk=member.user_id)
        assert user.has_perm("roles.orders_view", late)


@pytest.mark.django_db(transaction=True)
def test_role_edits_while_the_role_is_granted_at_new_scopes_end_with_an_exact_index():
    """A role edit writes its rows in one batch computed in the database after the seller's lock: grants
    that create new groups of the role meanwhile (new stores, a market, a new store) are either seen by
    the edit or see the edited role — never neither."""
    world = World()
    extra = [
        services.add_store(
            actor=world.owner, seller=world.seller, name=f"S{i}", client_id=f"90{i}", market="RU"
        )
        for i in range(3)
    ]
    members = [world.member() for _ in range(4)]
    role = world.role("analyst")
    scopes = [
        {"scope_kind": "stores", "stores": [extra[0]]},
        {"scope_kind": "stores", "stores": [extra[1], extra[2]]},
        {"scope_kind": "market", "market": "KZ"},
        {"scope_kind": "stores", "stores": [world.ru2]},
    ]
    calls = [
        lambda m=m, scope=scope: services.grant_role(actor=world.owner, membership=m, role=role, **scope)
        for m, scope in zip(members, scopes, strict=True)
    ]

    def edits():
        from roles.models import Role

        for added in (["finance.view"], ["finance.view", "warehouse.stock.edit"], []):
            current = Role.objects.get(pk=role.pk)
            base = [p for p in current.permissions if p not in ("finance.view", "warehouse.stock.edit")]
            services.update_role(actor=world.owner, role=current, permissions=base + added)

    calls.append(edits)
    calls.append(
        lambda: services.add_store(
            actor=world.owner, seller=world.seller, name="Late", client_id="31337", market="KZ"
        )
    )
    assert run_together(calls) == []
    assert_index_clean()
