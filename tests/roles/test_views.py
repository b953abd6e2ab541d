"""Pages: allow (owner, a manager), deny (403 without the permission), cross-seller (404)."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from roles import role_templates, services
from roles.models import Assignment, Role, Store
from tests.roles.conftest import World

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def page_urls(world):
    seller = world.seller.pk
    role = world.role("sales").pk
    return [
        reverse("roles:roles", args=[seller]),
        reverse("roles:role_create", args=[seller]),
        reverse("roles:role_templates", args=[seller]),
        reverse("roles:role_edit", args=[seller, role]),
        reverse("roles:role_clone", args=[seller, role]),
        reverse("roles:role_delete", args=[seller, role]),
        reverse("roles:stores", args=[seller]),
        reverse("roles:store", args=[seller, world.ru1.pk]),
        reverse("roles:store_deactivate", args=[seller, world.ru1.pk]),
        reverse("roles:warehouse", args=[seller, world.ru1_fbs.pk]),
        reverse("roles:warehouse_deactivate", args=[seller, world.ru1_fbs.pk]),
    ]


def needed_permission(url):
    return "stores.manage" if ("/stores/" in url or "/warehouses/" in url) else "roles.manage"


def readable(url):
    """Every member reads the roles, a role, the stores, a store, a warehouse; only managers change them (and
    see the templates they could add)."""
    actions = ("/new/", "/templates/", "/clone/", "/delete/", "/deactivate/")
    return not any(action in url for action in actions)


def test_owner_and_managers_see_every_page(client, world):
    manager_role = services.create_role(
        actor=world.owner, seller=world.seller, name="Managers", permissions=["roles.manage", "stores.manage"]
    )
    manager = world.member()
    services.grant_role(actor=world.owner, membership=manager, role=manager_role, scope_kind="seller")
    for user in (world.owner, manager.user):
        client.force_login(user)
        for url in page_urls(world):
            assert client.get(url).status_code == 200, url


def test_member_without_the_permission_reads_but_gets_403_for_changes(client, world):
    only_roles = services.create_role(
        actor=world.owner, seller=world.seller, name="Role keeper", permissions=["roles.manage"]
    )
    member = world.member(("sales", "seller"))
    keeper = world.member()
    services.grant_role(actor=world.owner, membership=keeper, role=only_roles, scope_kind="seller")
    roles_list = reverse("roles:roles", args=[world.seller.pk])
    client.force_login(member.user)
    for url in page_urls(world):
        assert client.get(url).status_code == (200 if readable(url) else 403), url
        assert client.post(url, {}).status_code == (405 if url == roles_list else 403), url
    client.force_login(keeper.user)
    for url in page_urls(world):
        expected = 200 if readable(url) or needed_permission(url) == "roles.manage" else 403
        assert client.get(url).status_code == expected, url
    target = world.member()
    client.force_login(member.user)
    assert client.post(reverse("roles:grant", args=[world.seller.pk, target.pk]), {}).status_code == 403
    assert not Assignment.objects.filter(membership=target).exists()


def test_other_sellers_pages_and_objects_answer_404(client, world):
    other = World()
    client.force_login(other.owner)
    for url in page_urls(world):
        assert client.get(url).status_code == 404, url
    # own seller in the URL, another seller's object ids
    client.force_login(world.owner)
    seller = world.seller.pk
    for url in (
        reverse("roles:role_edit", args=[seller, other.role("sales").pk]),
        reverse("roles:store", args=[seller, other.ru1.pk]),
        reverse("roles:warehouse", args=[seller, other.ru1_fbs.pk]),
        reverse("roles:store_deactivate", args=[seller, other.ru1.pk]),
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "Mine now"}).status_code == 404, url
    other_member = other.member(("sales", "seller"))
    assignment = other_member.assignments.get()
    assert client.post(reverse("roles:revoke", args=[seller, assignment.pk])).status_code == 404
    assert client.post(reverse("roles:grant", args=[seller, other_member.pk]), {}).status_code == 404
    assert Store.objects.get(pk=other.ru1.pk).is_active
    assert Assignment.objects.filter(pk=assignment.pk).exists()


def test_role_matrix_edit_clone_and_delete_through_the_pages(client, world):
    client.force_login(world.owner)
    seller = world.seller.pk
    page = client.get(reverse("roles:roles", args=[seller])).content.decode()
    assert "Customer service" in page and "Process FBS and rFBS postings" in page
    response = client.post(
        reverse("roles:role_create", args=[seller]),
        {"name": "Night shift", "description": "", "permissions": ["orders.view", "orders.process"]},
    )
    role = Role.objects.get(seller=world.seller, name="Night shift")
    assert response.status_code == 302
    client.post(
        reverse("roles:role_edit", args=[seller, role.pk]),
        {"name": "Night shift", "description": "x", "permissions": ["orders.view"]},
    )
    role.refresh_from_db()
    assert role.permissions == ["orders.view"]
    client.post(reverse("roles:role_clone", args=[seller, role.pk]), {"name": "Night 2"})
    assert Role.objects.filter(seller=world.seller, name="Night 2").exists()
    response = client.post(reverse("roles:role_create", args=[seller]), {"name": "", "permissions": []})
    assert response.status_code == 200 and b"error" in response.content
    holder = world.member()
    services.grant_role(actor=world.owner, membership=holder, role=role, scope_kind="seller")
    response = client.post(reverse("roles:role_delete", args=[seller, role.pk]), {"move_to": ""})
    assert response.status_code == 200 and Role.objects.filter(pk=role.pk).exists()
    target = Role.objects.get(seller=world.seller, name="Night 2")
    response = client.post(reverse("roles:role_delete", args=[seller, role.pk]), {"move_to": target.pk})
    assert response.status_code == 302 and not Role.objects.filter(pk=role.pk).exists()
    assert holder.assignments.get().role_id == target.pk


def test_stores_pages_add_rename_and_deactivate(client, world):
    client.force_login(world.owner)
    seller = world.seller.pk
    client.post(
        reverse("roles:stores", args=[seller]), {"name": "Tashkent", "client_id": "9001", "market": "UZ"}
    )
    store = Store.objects.get(seller=world.seller, client_id="9001")
    response = client.post(
        reverse("roles:stores", args=[seller]), {"name": "Dup", "client_id": "9001", "market": "UZ"}
    )
    assert response.status_code == 200 and "Client-ID" in response.content.decode()
    client.post(
        reverse("roles:store", args=[seller, store.pk]), {"form": "rename", "rename-name": "Tashkent 1"}
    )
    client.post(
        reverse("roles:store", args=[seller, store.pk]),
        {"form": "warehouse", "warehouse-name": "Chilanzar", "warehouse-kind": "FBS"},
    )
    store.refresh_from_db()
    assert store.name == "Tashkent 1" and store.warehouses.get().name == "Chilanzar"
    assert (
        "Deactivate"
        in client.get(reverse("roles:store_deactivate", args=[seller, store.pk])).content.decode()
    )
    client.post(reverse("roles:store_deactivate", args=[seller, store.pk]), follow=True)
    store.refresh_from_db()
    assert not store.is_active
    assert "Tashkent 1" not in client.get(reverse("roles:stores", args=[seller])).content.decode()
    assert AuditEvent.objects.filter(action="store.deactivated", target_id=store.pk).exists()


def test_member_page_grants_revokes_and_shows_the_grid(client, world):
    client.force_login(world.owner)
    member = world.member()
    url = reverse("accounts:member", args=[world.seller.pk, member.pk])
    response = client.post(
        reverse("roles:grant", args=[world.seller.pk, member.pk]),
        {"grant-role": world.role("sales").pk, "grant-scope_kind": "stores", "grant-stores": [world.ru1.pk]},
    )
    assert response.status_code == 302
    assignment = member.assignments.get()
    page = client.get(url).content.decode()
    assert "Sales" in page and "RU one" in page and "Process FBS and rFBS postings" in page
    assert page.count("✓") == len(world.role("sales").permissions)
    # an escalation or bad input comes back as a message, nothing written
    response = client.post(
        reverse("roles:grant", args=[world.seller.pk, member.pk]),
        {"grant-role": world.role("sales").pk, "grant-scope_kind": "stores"},
        follow=True,
    )
    assert member.assignments.count() == 1 and "stores" in response.content.decode().lower()
    assert client.get(reverse("roles:revoke", args=[world.seller.pk, assignment.pk])).status_code == 200
    client.post(reverse("roles:revoke", args=[world.seller.pk, assignment.pk]))
    assert not member.assignments.exists()


def test_members_list_shows_roles_and_scopes(client, world):
    world.member(("sales", "market", {"market": "KZ"}))
    client.force_login(world.owner)
    page = client.get(reverse("accounts:members", args=[world.seller.pk])).content.decode()
    assert "Sales · KZ" in page


def test_nav_links_to_roles_and_stores_show_to_every_member(client, world):
    member = world.member(("sales", "seller"))
    for user in (member.user, world.owner):
        client.force_login(user)
        page = client.get(reverse("accounts:members", args=[world.seller.pk])).content.decode()
        assert reverse("roles:roles", args=[world.seller.pk]) in page
        assert reverse("roles:stores", args=[world.seller.pk]) in page


def test_the_matrix_saves_a_role_column_and_refuses_roles_one_holds(client, world):
    seller = world.seller.pk
    client.force_login(world.owner)
    finance = world.role("financial_manager")
    page = client.get(reverse("roles:roles", args=[seller])).content.decode()
    assert f'form="role-{finance.pk}"' in page
    client.post(
        reverse("roles:role_permissions", args=[seller, finance.pk]), {"permissions": ["finance.view"]}
    )
    finance.refresh_from_db()
    assert finance.permissions == ["finance.view"]
    assert AuditEvent.objects.filter(action="role.updated", target_id=finance.pk).exists()
    admin = world.member(("administrator", "seller"))
    client.force_login(admin.user)
    administrator = world.role("administrator")
    page = client.get(reverse("roles:roles", args=[seller])).content.decode()
    assert f'form="role-{administrator.pk}"' not in page
    client.post(
        reverse("roles:role_permissions", args=[seller, administrator.pk]), {"permissions": ["orders.view"]}
    )
    administrator.refresh_from_db()
    assert len(administrator.permissions) > 1


def test_matrix_save_is_denied_without_roles_manage_and_404_across_sellers(client, world):
    other = World()
    sales = world.member(("sales", "seller"))
    finance = world.role("financial_manager")
    url = reverse("roles:role_permissions", args=[world.seller.pk, finance.pk])
    client.force_login(sales.user)
    assert client.post(url, {"permissions": ["orders.view"]}).status_code == 403
    client.force_login(other.owner)
    assert client.post(url, {"permissions": ["orders.view"]}).status_code == 404
    foreign = reverse("roles:role_permissions", args=[other.seller.pk, finance.pk])
    assert client.post(foreign, {"permissions": ["orders.view"]}).status_code == 404
    finance.refresh_from_db()
    assert finance.permissions == sorted(role_templates.BY_KEY["financial_manager"].permissions)


def test_a_member_manager_grants_and_revokes_within_their_scope_and_others_get_403(client, world):
    lead_role = services.create_role(
        actor=world.owner, seller=world.seller, name="Lead", permissions=["members.manage"]
    )
    lead = world.member(("sales", "market", {"market": "RU"}))
    services.grant_role(actor=world.owner, membership=lead, role=lead_role, scope_kind="seller")
    target = world.member()
    client.force_login(lead.user)
    grant_url = reverse("roles:grant", args=[world.seller.pk, target.pk])
    client.post(
        grant_url,
        {"grant-role": world.role("sales").pk, "grant-scope_kind": "stores", "grant-stores": [world.ru2.pk]},
    )
    assignment = target.assignments.get()
    response = client.post(
        grant_url,
        {"grant-role": world.role("sales").pk, "grant-scope_kind": "stores", "grant-stores": [world.kz1.pk]},
        follow=True,
    )
    assert target.assignments.count() == 1
    assert "hold yourself" in response.content.decode()
    revoke_url = reverse("roles:revoke", args=[world.seller.pk, assignment.pk])
    client.force_login(world.member(("sales", "seller")).user)
    assert client.get(revoke_url).status_code == 403
    assert client.post(revoke_url).status_code == 403
    client.force_login(lead.user)
    client.post(revoke_url)
    assert not target.assignments.exists()


def test_members_page_uses_the_same_number_of_queries_for_5_and_200_members(client, db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Membership, MembershipKind
    from tests.factories import UserFactory

    def page_queries(count):
        world = World()
        users = UserFactory.create_batch(count)
        memberships = Membership.objects.bulk_create(
            [
                Membership(user=u, seller=world.seller, kind=MembershipKind.MEMBER, status="active")
                for u in users
            ]
        )
        assignments = Assignment.objects.bulk_create(
            [Assignment(membership=m, role=world.role("sales"), scope_kind="stores") for m in memberships]
        )
        Assignment.stores.through.objects.bulk_create(
            [Assignment.stores.through(assignment=a, store=world.ru1) for a in assignments]
        )
        client.force_login(world.owner)
        with CaptureQueriesContext(connection) as context:
            response = client.get(reverse("accounts:members", args=[world.seller.pk]))
        assert response.status_code == 200
        # One page of people (accounts.views.MEMBERS_PER_PAGE), whatever the number of members.
        assert response.content.decode().count("Sales · RU one") == min(count, 20)
        return len(context.captured_queries)

    assert page_queries(5) == page_queries(200)
