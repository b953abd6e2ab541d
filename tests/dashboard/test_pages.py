"""Every seller-scoped dashboard page: renders for the owner, renders read-only for an analyst (no edit
controls, edits refused with 403), and answers 404 to a member of another seller."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import MembershipStatus, Seller
from audit.models import AuditEvent
from roles.models import Assignment, Role, Store, Warehouse


def _seller_url_names(resolver=None, namespace=""):
    """Every named URL pattern whose route takes the seller id: new pages join this test automatically."""
    resolver = resolver or get_resolver()
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            prefix_has_seller = "seller_id" in str(pattern.pattern)
            for name in _seller_url_names(pattern, inner):
                names.add(name)
            if prefix_has_seller:
                names |= {f"{inner}{p.name}" for p in pattern.url_patterns if isinstance(p, URLPattern)}
        elif isinstance(pattern, URLPattern) and pattern.name and "seller_id" in str(pattern.pattern):
            names.add(f"{namespace}{pattern.name}")
    return names


# name -> (extra URL kwargs from the world, page readable by any member?, POST data of an edit)
PAGES = {
    "dashboard:overview": (lambda w: {}, True, None),
    "dashboard:my_access": (lambda w: {}, True, None),
    "accounts:members": (lambda w: {}, True, None),
    "accounts:member": (
        lambda w: {"membership_id": w["clerk"].pk},
        True,
        {"job_title": "Changed", "ends_at": ""},
    ),
    "accounts:seller_settings": (
        lambda w: {},
        True,
        {
            "name": "Renamed",
            "default_language": "ru",
            "time_zone": "Europe/Moscow",
            "invitation_lifetime_hours": "48",
            "access_review_interval_days": "90",
        },
    ),
    "accounts:invite": (lambda w: {}, False, {"email": "new@example.com", "display_name": "New"}),
    "accounts:member_action": (
        lambda w: {"membership_id": w["clerk"].pk, "action": "suspend"},
        False,
        {},
    ),
    "accounts:member_reset_two_factor": (lambda w: {"membership_id": w["clerk"].pk}, False, {}),
    "accounts:bulk_action": (lambda w: {}, False, {"action": "suspend", "confirmed": "1"}),
    "accounts:transfer_ownership": (lambda w: {}, False, {"confirm": "on"}),
    "roles:roles": (lambda w: {}, True, None),
    "roles:role_create": (lambda w: {}, False, {"name": "Night shift", "permissions": ["orders.view"]}),
    "roles:role_templates": (lambda w: {}, False, {"template": "technology_partner"}),
    "roles:role_edit": (
        lambda w: {"role_id": w["roles"]["sales"].pk},
        True,
        {"name": "Renamed", "permissions": ["orders.view"]},
    ),
    "roles:role_permissions": (
        lambda w: {"role_id": w["roles"]["sales"].pk},
        False,
        {"permissions": ["orders.view"]},
    ),
    "roles:role_clone": (lambda w: {"role_id": w["roles"]["sales"].pk}, False, {"name": "Sales 2"}),
    "roles:role_delete": (lambda w: {"role_id": w["roles"]["sales"].pk}, False, {}),
    "roles:stores": (lambda w: {}, True, {"name": "New", "client_id": "654321", "market": "KZ"}),
    "roles:store": (
        lambda w: {"store_id": w["store"].pk},
        True,
        {"form": "rename", "rename-name": "Renamed"},
    ),
    "roles:store_deactivate": (lambda w: {"store_id": w["store"].pk}, False, {}),
    "roles:warehouse": (lambda w: {"warehouse_id": w["khimki"].pk}, True, {"name": "Renamed"}),
    "roles:warehouse_deactivate": (lambda w: {"warehouse_id": w["khimki"].pk}, False, {}),
    "roles:grant": (
        lambda w: {"membership_id": w["clerk"].pk},
        False,
        {"grant-role": "", "grant-scope_kind": "seller"},
    ),
    "roles:revoke": (lambda w: {"assignment_id": w["picking"].pk}, False, {}),
    "dashboard:tokens": (lambda w: {}, True, {"form": "service_account", "service-name": "ERP"}),
    "audit:events": (lambda w: {}, True, None),
    "audit:export": (lambda w: {}, True, None),
    "audit:retention": (lambda w: {}, False, {"retention_days": "30"}),
    # access reviews: for reviewers (the owner and reviews.run holders); the report for audit.view holders
    "reviews:reviews": (lambda w: {}, False, None),
    "reviews:start": (lambda w: {}, False, {}),
    "reviews:review": (lambda w: {"review_id": w["review"].pk}, False, None),
    "reviews:keep_recommended": (lambda w: {"review_id": w["review"].pk}, False, {}),
    "reviews:close": (lambda w: {"review_id": w["review"].pk}, False, {}),
    "reviews:item": (
        lambda w: {"review_id": w["review"].pk, "item_id": w["review_item"].pk},
        False,
        {"decision": "keep"},
    ),
    "reviews:report": (lambda w: {"review_id": w["review"].pk}, True, None),
    "reviews:report_print": (lambda w: {"review_id": w["review"].pk}, True, None),
    "reviews:report_csv": (lambda w: {"review_id": w["review"].pk}, True, None),
    # inviting from a spreadsheet: for members.manage holders
    "onboarding:upload": (lambda w: {}, False, None),
    "onboarding:import": (lambda w: {"import_id": w["member_import"].pk}, False, None),
    # the access matrix: for audit.view holders, read-only; changing a scope: for members.manage holders
    "roles:access_matrix": (lambda w: {}, True, None),
    "roles:assignment_scope": (lambda w: {"assignment_id": w["picking"].pk}, False, None),
}
# Pages where everyone manages something of their own (their API tokens): the analyst sees those forms,
# never the ones that change other people's things.
SELF_SERVICE = {"dashboard:tokens": ('value="service_account"', 'value="service_token"', "ERP sync")}
POST_ONLY = {
    "accounts:bulk_action": {"action": "suspend", "ids": []},
    "roles:grant": {},
    "roles:role_permissions": {"permissions": ["orders.view", "orders.process"]},
    "audit:retention": {"retention_days": ""},
    "reviews:keep_recommended": {},
}


# Not pages: the JSON options of the searchable selects (their scoping: tests/test_isolation.py; their
# size: tests/dashboard/test_bounded_pages.py).
OPTION_ENDPOINTS = {"dashboard:store_options", "dashboard:warehouse_options", "dashboard:people_options"}
# Not pages either: spreadsheet downloads (an import's template and result file; their tests:
# tests/onboarding/) and the audit page's POST-only digest recipients form (tests/audit/test_digests.py).
NOT_PAGES = {"onboarding:template", "onboarding:result", "audit:digest-recipients"}


def test_the_table_covers_every_seller_page():
    # The REST API has its own table of every route (tests/test_isolation.py); this one is every page.
    names = {name for name in _seller_url_names() if not name.startswith("api:")}
    assert names - OPTION_ENDPOINTS - NOT_PAGES == set(PAGES)


def _url(world, name, seller=None):
    kwargs, _readable, _post = PAGES[name]
    return reverse(name, kwargs={"seller_id": (seller or world["seller"]).pk, **kwargs(world)})


def _main(response) -> str:
    html = response.content.decode()
    return html[html.index('<main id="main"') :]


def _get_or_post(client, name, url):
    if name in POST_ONLY:  # POST-only: the confirmation step (bulk) or the result is its page
        return client.post(url, POST_ONLY[name])
    return client.get(url)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PAGES))
def test_owner_sees_every_page(client, world, name):
    client.force_login(world["owner"].user)
    response = _get_or_post(client, name, _url(world, name))
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200 and not response.streaming:  # an export streams a file
        assert "Ozon Shop" in response.content.decode()


# Links to pages that change something: none may show on a page read by someone who may not change it.
EDIT_LINKS = re.compile(
    r"/members/(new|bulk|\d+/(suspend|remove|reactivate|resend|revoke))/"
    r"|/roles/(new|\d+/(permissions|clone|delete))/"
    r"|/(stores|warehouses)/\d+/deactivate/"
    r"|/access/(\d+/grant|assignments/\d+/revoke)/"
    r"|/transfer-ownership/"
)


def _assert_read_only(response, name):
    assert response.status_code == 200
    if response.streaming:  # the audit export: a file, no page
        return
    main = _main(response)
    if name in SELF_SERVICE:
        assert not any(marker in main for marker in SELF_SERVICE[name])
    else:
        assert 'method="post"' not in main
        assert 'type="checkbox"' not in main
    assert not EDIT_LINKS.search(main), EDIT_LINKS.search(main).group(0)
    assert "Add sub-account" not in main


def test_the_analyst_holds_every_view_permission_and_no_manage_one(world):
    from accounts.authorization import member_has_permission_everywhere, member_has_seller_permission
    from roles import catalog

    seller_permissions = catalog.codenames(catalog.SELLER)
    held = {code for code in seller_permissions if member_has_seller_permission(world["analyst"], code)}
    assert held == set()  # every seller-level permission manages something
    for code in ("audit.view", "members.view", "orders.view"):  # viewing, for the whole seller
        assert member_has_permission_everywhere(world["analyst"], code)
    assert not member_has_seller_permission(world["analyst"], "members.manage")


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PAGES))
def test_analyst_reads_readable_pages_without_edit_controls_and_is_refused_actions(client, world, name):
    client.force_login(world["analyst"].user)
    _kwargs, readable, _post = PAGES[name]
    response = _get_or_post(client, name, _url(world, name))
    if readable:
        _assert_read_only(response, name)
    else:
        assert response.status_code == 403


READ_ONLY_PAGES = [
    "accounts:seller_settings",
    "roles:roles",
    "roles:role_edit",
    "roles:stores",
    "roles:store",
    "roles:warehouse",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", READ_ONLY_PAGES)
def test_a_member_without_any_permission_reads_the_settings_roles_and_stores(client, world, name):
    from tests.factories import make_member

    nobody = make_member(world["seller"])
    client.force_login(nobody.user)
    if name in WHERE_THEY_WORK:
        # A store's or warehouse's page is for those who work there (issue 14: a picker does not read the
        # seller's every warehouse): the clerk picking at Khimki reads it, someone working nowhere does not.
        assert client.get(_url(world, name)).status_code == 404
        client.force_login(world["clerk"].user)
    _assert_read_only(client.get(_url(world, name)), name)


WHERE_THEY_WORK = {"roles:store", "roles:warehouse"}


@pytest.mark.django_db
@pytest.mark.parametrize("name", READ_ONLY_PAGES)
def test_the_owner_gets_the_edit_controls_of_the_pages_others_only_read(client, world, name):
    client.force_login(world["owner"].user)
    main = _main(client.get(_url(world, name)))
    assert 'method="post"' in main


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "permission"),
    [
        ("accounts:seller_settings", "security.manage"),
        ("roles:role_edit", "roles.manage"),
        ("roles:stores", "stores.manage"),
        ("roles:store", "stores.manage"),
        ("roles:warehouse", "stores.manage"),
    ],
)
def test_a_refused_edit_of_a_readable_page_is_recorded_with_the_missing_permission(
    client, world, name, permission
):
    client.force_login(world["analyst"].user)
    assert client.post(_url(world, name), PAGES[name][2]).status_code == 403
    denial = AuditEvent.objects.get(seller_id=world["seller"].pk, action="access.denied")
    assert denial.actor_user_id == world["analyst"].user_id
    assert denial.changes["permission"] == [None, permission]


def test_analyst_sees_the_roles_and_their_permission_matrix(client, world):
    client.force_login(world["analyst"].user)
    main = _main(client.get(_url(world, "roles:roles")))
    for role in ("Analyst (read-only)", "Courier / Assembler", "Sales", "Auditor"):
        assert role in main
    assert "View audit log" in main and "View FBS and rFBS postings" in main  # the rows of the matrix
    assert main.count('class="yes"') == sum(
        len(role.permissions) for role in Role.objects.filter(seller=world["seller"])
    )
    assert "Only people who may manage roles can change them." in main


def test_analyst_sees_what_a_role_allows(client, world):
    client.force_login(world["analyst"].user)
    main = _main(client.get(_url(world, "roles:role_edit")))
    assert "Sales" in main
    sales = world["roles"]["sales"]
    from roles import catalog

    for codename in sales.permissions:
        assert str(catalog.get(codename).label) in main
    assert "Manage roles" not in main  # not one of the role's permissions


def test_analyst_sees_the_stores_and_their_warehouses(client, world):
    client.force_login(world["analyst"].user)
    stores = _main(client.get(_url(world, "roles:stores")))
    assert "Moscow store" in stores and "123456" in stores and "Khimki" in stores
    store = _main(client.get(_url(world, "roles:store")))
    assert "Khimki" in store and "Podolsk" in store
    warehouse = _main(client.get(_url(world, "roles:warehouse")))
    assert "Khimki" in warehouse and "Moscow store" in warehouse and "FBS" in warehouse


def test_analyst_sees_the_sellers_settings(client, world):
    Seller.objects.filter(pk=world["seller"].pk).update(
        time_zone="Asia/Shanghai", invitation_lifetime_hours=48, require_two_factor=True
    )
    client.force_login(world["analyst"].user)
    main = _main(client.get(_url(world, "accounts:seller_settings")))
    assert "(UTC+08:00) Shanghai" in main and "Ozon Shop" in main  # the zone as people read it
    assert "<dd>48</dd>" in main and "<dd>90</dd>" in main and "<dd>Yes</dd>" in main
    assert "Only people who may manage security can change these." in main
    assert 'name="time_zone"' not in main


def test_the_navigation_shows_roles_stores_and_settings_to_every_member_and_audit_to_its_viewers(
    client, world
):
    from tests.factories import make_member

    seller = world["seller"].pk
    links = {
        name: f'href="{reverse(name, args=[seller])}"'
        for name in ("roles:roles", "roles:stores", "accounts:seller_settings", "audit:events")
    }
    nobody = make_member(world["seller"])
    for membership, sees_audit in ((world["analyst"], True), (nobody, False)):
        client.force_login(membership.user)
        html = client.get(reverse("dashboard:my_access", args=[seller])).content.decode()
        nav = html[html.index('class="mainnav"') : html.index("</nav>", html.index('class="mainnav"'))]
        assert links["roles:roles"] in nav and links["roles:stores"] in nav
        assert links["accounts:seller_settings"] in nav
        assert (links["audit:events"] in nav) is sees_audit


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(name for name, page in PAGES.items() if page[2] is not None))
def test_analyst_edits_are_refused_and_change_nothing(client, world, name):
    world["assignments_before"] = sorted(
        Assignment.objects.filter(membership__seller=world["seller"]).values_list("pk", flat=True)
    )
    world["roles_before"] = sorted(Role.objects.filter(seller=world["seller"]).values_list("name", flat=True))
    client.force_login(world["analyst"].user)
    _kwargs, _readable, data = PAGES[name]
    clerk = world["clerk"]
    response = client.post(_url(world, name), {**data, "ids": [clerk.pk], "new_owner": clerk.pk})
    assert response.status_code == 403
    clerk.refresh_from_db()
    assert clerk.status == MembershipStatus.ACTIVE and clerk.job_title == "Clerk"
    assert (
        sorted(Assignment.objects.filter(membership__seller=world["seller"]).values_list("pk", flat=True))
        == (world["assignments_before"])
    )
    assert (
        sorted(Role.objects.filter(seller=world["seller"]).values_list("name", flat=True))
        == world["roles_before"]
    )
    assert list(Store.objects.filter(seller=world["seller"]).values_list("name", "is_active")) == [
        ("Moscow store", True)
    ]
    assert Warehouse.objects.filter(store=world["store"], is_active=True).count() == 2
    assert Seller.objects.get(pk=world["seller"].pk).name == "Ozon Shop"
    assert not world["seller"].memberships.filter(user__email="new@example.com").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PAGES))
def test_member_of_another_seller_gets_404(client, world, name):
    client.force_login(world["other_owner"].user)
    response = _get_or_post(client, name, _url(world, name))
    assert response.status_code == 404
    assert "Ozon Shop" not in response.content.decode()


@pytest.mark.django_db
def test_owner_cannot_reach_another_sellers_member_through_own_seller(client, world):
    client.force_login(world["other_owner"].user)
    url = reverse(
        "accounts:member", kwargs={"seller_id": world["other_seller"].pk, "membership_id": world["clerk"].pk}
    )
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {"form": "service_account", "service-name": "ERP 2"},
        {"form": "revoke", "confirmed": "1"},  # the token of a service account, not the analyst's own
    ],
)
def test_a_refused_token_action_is_recorded_with_the_missing_permission(client, world, data):
    client.force_login(world["analyst"].user)
    data = {**data, "token": world["service_token"].pk}
    assert client.post(_url(world, "dashboard:tokens"), data).status_code == 403
    denial = AuditEvent.objects.get(seller_id=world["seller"].pk, action="access.denied")
    assert denial.changes["permission"] == [None, "tokens.manage"]
    world["service_token"].refresh_from_db()
    assert world["service_token"].revoked_at is None
    assert not world["seller"].memberships.filter(user__display_name="ERP 2").exists()
