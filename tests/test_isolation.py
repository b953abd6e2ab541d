"""The isolation suite: every route of the URL configuration, API and dashboard, is listed in ROUTES with
how to call it and what it needs. For every route that names a seller's object it proves that

  * a member of seller A (the owner, holding every permission) gets 404 for seller B and for B's objects,
  * a member of A lacking the route's permission gets 403 (404 where existence must not leak),
  * a suspended member's token gets 401 (API) or loses the session (dashboard).

A route missing from ROUTES fails `test_every_route_is_known`, so a new route is covered by construction:
add it to ROUTES (kind, methods → permission) and the checks below apply to it automatically.
URL arguments are built from their names (OBJECT_ARGUMENTS); an unknown argument name fails too."""

import base64
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from accounts import api_tokens, services
from accounts.models import MembershipStatus
from ozonseat.api.roles_support import ROLES
from tests.factories import make_member, make_seller

if ROLES:
    from roles import services as roles_services
    from roles.models import Assignment, Role

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

MEMBERS_MANAGE = "members.manage"
# Checked on the object, not declared on the view: another member's page needs members.view over them
# (one's own needs nothing), a store's or warehouse's page that the member works there (issue 14).
MEMBERS_VIEW = "members.view"
WORKS_THERE = "works there"
PER_OBJECT = (MEMBERS_VIEW, WORKS_THERE)
ROLES_MANAGE = "roles.manage"
STORES_MANAGE = "stores.manage"
SECURITY_MANAGE = "security.manage"
TOKENS_MANAGE = "tokens.manage"
AUDIT_VIEW = "audit.view"
REVIEWS_RUN = "reviews.run"  # held at any scope (the owner, or a market, stores or the whole seller)
OWNER = "owner"  # only the owner, whatever the roles


@dataclass(frozen=True)
class Route:
    # api: seller-scoped REST; dashboard: seller-scoped page; caller: the caller's own data, no seller object;
    # public: reachable without a seller membership, names no seller object (reason says why it is safe).
    kind: str
    # method -> the permission it needs (None: any working member of the seller)
    methods: dict = field(default_factory=lambda: {"GET": None})
    extra: dict = field(default_factory=dict)  # fixed URL arguments that are not objects (e.g. an action)
    # a member lacking the permission gets 404 rather than 403 (existence must not leak): True, or the
    # methods for which it does
    hidden: bool | tuple = False
    body: str = ""  # a request body to send (BODIES), for routes that need one to reach their object
    needs_roles: bool = False  # served once the roles app's models and selectors exist
    reason: str = ""


API = "api"
DASHBOARD = "dashboard"
CALLER = "caller"
PUBLIC = "public"

ROUTES: dict[str, Route] = {
    # --- REST API -----------------------------------------------------------------------------------
    "api:schema": Route(PUBLIC, reason="the OpenAPI document: no data"),
    "api:docs": Route(PUBLIC, reason="Swagger UI page: no data"),
    "api:redoc": Route(PUBLIC, reason="Redoc page: no data"),
    "api:ping": Route(CALLER),
    "api:me": Route(CALLER),
    "api:members": Route(API, {"GET": None, "POST": MEMBERS_MANAGE}),
    "api:member": Route(API, {"GET": MEMBERS_VIEW, "PATCH": MEMBERS_MANAGE}, hidden=("GET",)),
    "api:member-suspend": Route(API, {"POST": MEMBERS_MANAGE}),
    "api:member-reactivate": Route(API, {"POST": MEMBERS_MANAGE}),
    "api:member-remove": Route(API, {"POST": MEMBERS_MANAGE}),
    "api:member-resend-invitation": Route(API, {"POST": MEMBERS_MANAGE}),
    "api:member-revoke-invitation": Route(API, {"POST": MEMBERS_MANAGE}),
    "api:tokens": Route(API, {"GET": None, "POST": None}),
    # another member's token: 404 unless tokens.manage (the checks use a token of a different member)
    "api:token": Route(API, {"GET": TOKENS_MANAGE, "DELETE": TOKENS_MANAGE}, hidden=True),
    "api:service-accounts": Route(API, {"GET": TOKENS_MANAGE, "POST": TOKENS_MANAGE}),
    "api:permissions": Route(API, needs_roles=True),
    "api:role-templates": Route(API, needs_roles=True),
    "api:roles": Route(API, {"GET": None, "POST": ROLES_MANAGE}, needs_roles=True),
    "api:role": Route(API, {"GET": None, "PATCH": ROLES_MANAGE, "DELETE": ROLES_MANAGE}, needs_roles=True),
    "api:role-clone": Route(API, {"POST": ROLES_MANAGE}, needs_roles=True),
    "api:stores": Route(API, {"GET": None, "POST": STORES_MANAGE}, needs_roles=True),
    "api:store": Route(API, {"GET": None, "PATCH": STORES_MANAGE}, needs_roles=True),
    "api:store-deactivate": Route(API, {"POST": STORES_MANAGE}, needs_roles=True),
    "api:warehouses": Route(API, {"GET": None, "POST": STORES_MANAGE}, needs_roles=True),
    "api:warehouse": Route(API, {"GET": None, "PATCH": STORES_MANAGE}, needs_roles=True),
    "api:warehouse-deactivate": Route(API, {"POST": STORES_MANAGE}, needs_roles=True),
    "api:assignments": Route(API, {"GET": None, "POST": MEMBERS_MANAGE}, needs_roles=True),
    "api:assignment": Route(
        API, {"GET": MEMBERS_VIEW, "DELETE": MEMBERS_MANAGE}, hidden=("GET",), needs_roles=True
    ),
    "api:assignment-scope": Route(API, {"POST": MEMBERS_MANAGE}, body="scope", needs_roles=True),
    "api:member-imports": Route(API, {"POST": MEMBERS_MANAGE}, body="upload", needs_roles=True),
    "api:member-import": Route(API, {"GET": MEMBERS_MANAGE}, needs_roles=True),
    "api:member-import-apply": Route(API, {"POST": MEMBERS_MANAGE}, needs_roles=True),
    # asking about oneself needs nothing; the checks ask about another member
    "api:check": Route(API, {"POST": MEMBERS_MANAGE}, body="check", needs_roles=True),
    "api:reviews": Route(API, {"GET": REVIEWS_RUN, "POST": OWNER}, needs_roles=True),
    "api:review": Route(API, {"GET": REVIEWS_RUN}, needs_roles=True),
    "api:review-items": Route(API, {"GET": REVIEWS_RUN}, needs_roles=True),
    "api:review-item-decision": Route(API, {"POST": REVIEWS_RUN}, body="decision", needs_roles=True),
    "api:review-keep-recommended": Route(API, {"POST": REVIEWS_RUN}, needs_roles=True),
    "api:audit-events": Route(API, {"GET": AUDIT_VIEW}),
    "api:audit-events-export": Route(API, {"GET": AUDIT_VIEW}),
    # --- dashboard ----------------------------------------------------------------------------------
    "accounts:members": Route(DASHBOARD),
    "accounts:invite": Route(DASHBOARD, {"GET": MEMBERS_MANAGE}),
    "accounts:member": Route(DASHBOARD, {"GET": MEMBERS_VIEW}, hidden=True),
    "accounts:member_action": Route(DASHBOARD, {"GET": MEMBERS_MANAGE}, extra={"action": "suspend"}),
    "accounts:member_reset_two_factor": Route(DASHBOARD, {"GET": SECURITY_MANAGE}),
    "accounts:seller_settings": Route(DASHBOARD, {"GET": None, "POST": SECURITY_MANAGE}),
    "accounts:transfer_ownership": Route(DASHBOARD, {"GET": OWNER}),
    "accounts:switch_seller": Route(
        CALLER, reason="seller id in the body: see test_switch_seller_refuses_foreign"
    ),
    "accounts:home": Route(PUBLIC, reason="redirects to the caller's own seller"),
    "accounts:sign_up": Route(PUBLIC, reason="creates a new seller"),
    "accounts:confirm_email": Route(PUBLIC, reason="single-use secret link, hash-looked-up"),
    "accounts:accept_invitation": Route(PUBLIC, reason="single-use secret link bound to the invited user"),
    "accounts:login": Route(PUBLIC, reason="sign-in"),
    "accounts:resend_confirmation": Route(
        PUBLIC, reason="for the unconfirmed user whose password this session has just checked only"
    ),
    "accounts:two_factor_verify": Route(
        PUBLIC, reason="second sign-in step for the pending sign-in in this session only"
    ),
    "accounts:two_factor_setup": Route(
        PUBLIC, reason="enrolment for the pending sign-in in this session only"
    ),
    "accounts:logout": Route(PUBLIC, reason="sign-out"),
    "accounts:password_change_required": Route(CALLER, reason="the signed-in person's own expired password"),
    "accounts:two_factor_enrol": Route(CALLER, reason="the signed-in person's own authenticator"),
    "accounts:recovery_codes": Route(
        CALLER, {"POST": None}, reason="the signed-in person's own recovery codes"
    ),
    "accounts:password_reset": Route(PUBLIC, reason="by e-mail, answers the same for any address"),
    "accounts:password_reset_done": Route(PUBLIC, reason="static page"),
    "accounts:password_reset_confirm": Route(PUBLIC, reason="Django's signed, expiring reset link"),
    "accounts:password_reset_complete": Route(PUBLIC, reason="static page"),
    "set_language": Route(PUBLIC, reason="sets a cookie"),
    "roles:roles": Route(DASHBOARD),
    "roles:role_create": Route(DASHBOARD, {"GET": ROLES_MANAGE}),
    "roles:role_templates": Route(DASHBOARD, {"GET": ROLES_MANAGE, "POST": ROLES_MANAGE}),
    "roles:role_edit": Route(DASHBOARD, {"GET": None, "POST": ROLES_MANAGE}),
    "roles:role_permissions": Route(DASHBOARD, {"POST": ROLES_MANAGE}),
    "roles:role_clone": Route(DASHBOARD, {"GET": ROLES_MANAGE}),
    "roles:role_delete": Route(DASHBOARD, {"GET": ROLES_MANAGE}),
    "roles:stores": Route(DASHBOARD, {"GET": None, "POST": STORES_MANAGE}),
    "roles:store": Route(DASHBOARD, {"GET": WORKS_THERE, "POST": STORES_MANAGE}, hidden=("GET",)),
    "roles:store_deactivate": Route(DASHBOARD, {"GET": STORES_MANAGE}),
    "roles:warehouse": Route(DASHBOARD, {"GET": WORKS_THERE, "POST": STORES_MANAGE}, hidden=("GET",)),
    "roles:warehouse_deactivate": Route(DASHBOARD, {"GET": STORES_MANAGE}),
    "roles:grant": Route(DASHBOARD, {"POST": MEMBERS_MANAGE}),
    "roles:revoke": Route(DASHBOARD, {"GET": MEMBERS_MANAGE}),
    "roles:assignment_scope": Route(DASHBOARD, {"GET": MEMBERS_MANAGE, "POST": MEMBERS_MANAGE}),
    "roles:access_matrix": Route(DASHBOARD, {"GET": AUDIT_VIEW}),
    "onboarding:upload": Route(DASHBOARD, {"GET": MEMBERS_MANAGE, "POST": MEMBERS_MANAGE}),
    "onboarding:template": Route(DASHBOARD, {"GET": MEMBERS_MANAGE}),
    "onboarding:import": Route(DASHBOARD, {"GET": MEMBERS_MANAGE, "POST": MEMBERS_MANAGE}),
    "onboarding:result": Route(DASHBOARD, {"GET": MEMBERS_MANAGE}),
    # --- dashboard and audit apps (listed ahead of their merge: checked once their URLs are installed) ---
    "audit:events": Route(DASHBOARD, {"GET": AUDIT_VIEW}),
    "audit:export": Route(DASHBOARD, {"GET": AUDIT_VIEW}),
    "audit:retention": Route(DASHBOARD, {"POST": SECURITY_MANAGE}),
    "audit:digest-recipients": Route(DASHBOARD, {"POST": SECURITY_MANAGE}),
    "dashboard:overview": Route(DASHBOARD),
    "dashboard:my_access": Route(DASHBOARD),
    "dashboard:tokens": Route(DASHBOARD, {"GET": None, "POST": None}),
    # options of the searchable selects: as the pages they serve (stores, a store's page, the audit log)
    "dashboard:store_options": Route(DASHBOARD),
    "dashboard:warehouse_options": Route(DASHBOARD),
    "dashboard:people_options": Route(DASHBOARD, {"GET": AUDIT_VIEW}),
    "accounts:bulk_action": Route(DASHBOARD, {"POST": MEMBERS_MANAGE}),
    "dashboard:profile": Route(CALLER, reason="the signed-in person's own profile"),
    "privacy:notice": Route(PUBLIC, reason="static page"),
    "privacy:export": Route(CALLER, reason="the signed-in person's own data"),
    "privacy:erase": Route(CALLER, {"GET": None, "POST": None}, reason="erases only the signed-in person"),
    "api:me-data": Route(CALLER),
    "reviews:reviews": Route(DASHBOARD, {"GET": REVIEWS_RUN}),
    "reviews:start": Route(DASHBOARD, {"GET": OWNER, "POST": OWNER}),
    "reviews:review": Route(DASHBOARD, {"GET": REVIEWS_RUN}),
    "reviews:keep_recommended": Route(DASHBOARD, {"POST": REVIEWS_RUN}),
    "reviews:close": Route(DASHBOARD, {"GET": OWNER}),
    "reviews:item": Route(DASHBOARD, {"GET": REVIEWS_RUN, "POST": REVIEWS_RUN}),
    "reviews:report": Route(DASHBOARD, {"GET": AUDIT_VIEW}),
    "reviews:report_print": Route(DASHBOARD, {"GET": AUDIT_VIEW}),
    "reviews:report_csv": Route(DASHBOARD, {"GET": AUDIT_VIEW}),
    "dashboard:set_language": Route(PUBLIC, reason="sets the caller's own language"),
}
# The Django admin (every route under admin/) is for staff only: see test_admin_is_staff_only.
ADMIN_PREFIX = "admin/"


@dataclass
class World:
    seller: object
    owner: object
    subject: object  # an active member the routes act on
    plain: object  # an active member holding no permission
    suspended: object  # a member whose token was made before suspension
    token: object  # a token of `subject` (not of the caller)
    secrets: dict
    store: object
    warehouse: object
    role: object
    assignment: object  # `subject` holds `role` on `store`
    review: object = None  # an open access review
    item: object = None  # its item for `subject`
    member_import: object = None  # a spreadsheet import in preview


def build_world(name) -> World:
    seller, owner = make_seller(name=name)
    subject = make_member(seller)
    plain = make_member(seller)
    suspended = make_member(seller)
    secrets = {
        "owner": api_tokens.create_api_token(actor=owner.user, membership=owner, name="o").secret,
        "plain": api_tokens.create_api_token(actor=plain.user, membership=plain, name="p").secret,
        "suspended": api_tokens.create_api_token(actor=suspended.user, membership=suspended, name="s").secret,
    }
    token = api_tokens.create_api_token(actor=subject.user, membership=subject, name="subject").token
    services.suspend_member(actor=owner.user, membership=suspended)
    if not ROLES:
        return World(seller, owner, subject, plain, suspended, token, secrets, None, None, None, None)
    store = roles_services.add_store(
        actor=owner.user, seller=seller, name="Store", client_id="1", market="RU"
    )
    warehouse = roles_services.add_warehouse(actor=owner.user, store=store, name="Warehouse", kind="FBS")
    role = Role.objects.get(seller=seller, template_key="sales")
    assignment = roles_services.grant_role(
        actor=owner.user, membership=subject, role=role, scope_kind="stores", stores=[store]
    )
    from reviews import opening as review_opening

    review = review_opening.start_review(actor=owner.user, seller=seller)
    item = review.items.get(membership=subject)
    from onboarding import services as onboarding_services

    member_import = onboarding_services.upload_import(
        actor=owner.user, seller=seller, file_name="team.csv", content=b"E-mail,Name\nnew@example.com,New\n"
    )
    return World(
        seller,
        owner,
        subject,
        plain,
        suspended,
        token,
        secrets,
        store,
        warehouse,
        role,
        assignment,
        review,
        item,
        member_import,
    )


# URL argument name -> the object of a world it names
OBJECT_ARGUMENTS = {
    "seller_id": lambda world: world.seller.pk,
    "membership_id": lambda world: world.subject.pk,
    "token_id": lambda world: world.token.pk,
    "store_id": lambda world: world.store.pk,
    "warehouse_id": lambda world: world.warehouse.pk,
    "role_id": lambda world: world.role.pk,
    "assignment_id": lambda world: world.assignment.pk,
    "review_id": lambda world: world.review.pk,
    "item_id": lambda world: world.item.pk,
    "import_id": lambda world: world.member_import.pk,
}

# Request bodies that name objects, built for the world whose objects they name.
BODIES = {
    "check": lambda world: {
        "checks": [{"member": world.subject.pk, "permission": "orders.view", "store": world.store.pk}]
    },
    "decision": lambda world: {"decision": "keep"},
    "scope": lambda world: {"scope_kind": "stores", "store_ids": [world.store.pk], "dry_run": True},
    "upload": lambda world: {
        "file_name": "team.csv",
        "content_base64": base64.b64encode(b"E-mail,Name\nnew@example.com,New\n").decode(),
    },
}


def walk(resolver=None, prefix="", namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from walk(pattern, route, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name, route, pattern


def all_routes():
    return [(name, route, pattern) for name, route, pattern in walk() if not route.startswith(ADMIN_PREFIX)]


def installed_names() -> set[str]:
    return {name for name, _route, _pattern in all_routes()}


def seller_routes(kind):
    installed = installed_names()
    return sorted(name for name, spec in ROUTES.items() if spec.kind == kind and name in installed)


def argument_names(name) -> list[str]:
    pattern = next(p for n, _r, p in all_routes() if n == name)
    return list(pattern.pattern.converters) or list(pattern.pattern.regex.groupindex)


def build_url(name, world_for_seller, world_for_objects) -> str:
    spec = ROUTES[name]
    kwargs = dict(spec.extra)
    for argument in argument_names(name):
        if argument in kwargs:
            continue
        if argument not in OBJECT_ARGUMENTS:
            pytest.fail(f"{name}: no builder for URL argument {argument!r}; add it to OBJECT_ARGUMENTS")
        world = world_for_seller if argument == "seller_id" else world_for_objects
        kwargs[argument] = OBJECT_ARGUMENTS[argument](world)
    return reverse(name, kwargs=kwargs)


def api_call(secret, method, url, body=None):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client.generic(method, url, json.dumps(body or {}), content_type="application/json")


def body_for(name, world):
    spec = ROUTES[name]
    return BODIES[spec.body](world) if spec.body else None


@pytest.fixture
def worlds(db):
    return build_world("A"), build_world("B")


# --- the table is complete -------------------------------------------------------------------------


def test_every_route_is_known():
    names = [name for name, _route, _pattern in all_routes()]
    unnamed = [route for name, route, _p in all_routes() if not name]
    assert not unnamed, f"name these routes so the isolation suite can cover them: {unnamed}"
    unknown = sorted(set(names) - set(ROUTES))
    assert not unknown, (
        f"routes the isolation suite does not know; add them to ROUTES in {__file__}: {unknown}"
    )
    installed = get_resolver().namespace_dict
    stale = sorted(
        name
        for name in set(ROUTES) - set(names)
        if (":" not in name or name.split(":")[0] in installed)
        and not (ROUTES[name].needs_roles and not ROLES)
    )
    assert not stale, f"ROUTES lists routes that no longer exist: {stale}"


def test_dashboard_permissions_match_the_views_own_declaration():
    """The table cannot drift from the code: `@seller_view(permission, change_permission=...)` records both
    on the view; a GET needs the first, any other method the second (or, without one, the first)."""
    for name, _route, pattern in all_routes():
        spec = ROUTES.get(name)
        if spec is None or spec.kind != DASHBOARD:
            continue
        declared = getattr(pattern.callback, "seller_permission", "missing")
        assert declared != "missing", f"{name}: a seller page must use @seller_view"
        declared_change = getattr(pattern.callback, "seller_change_permission", None) or declared
        for method, permission in spec.methods.items():
            expected = declared if method == "GET" else declared_change
            declared_as = None if permission == OWNER or permission in PER_OBJECT else permission
            assert declared_as == expected, (name, method, expected)


def test_every_seller_route_names_its_seller_and_every_public_route_has_a_reason():
    installed = installed_names()
    for name, spec in ROUTES.items():
        if name not in installed:
            continue
        if spec.kind in (API, DASHBOARD):
            assert "seller_id" in argument_names(name), name
        elif spec.kind == PUBLIC:
            assert spec.reason, f"{name}: say why a public route is safe"
            assert "seller_id" not in argument_names(name), name


# --- API ---------------------------------------------------------------------------------------------


def is_hidden(name, method) -> bool:
    hidden = ROUTES[name].hidden
    return method in hidden if isinstance(hidden, tuple) else hidden


def api_cases():
    return [(name, method) for name in seller_routes(API) for method in ROUTES[name].methods]


@pytest.mark.parametrize(("name", "method"), api_cases())
def test_api_route_answers_404_for_another_sellers_objects(worlds, name, method):
    a, b = worlds
    owner_a = a.secrets["owner"]
    other_seller = api_call(owner_a, method, build_url(name, b, b), body_for(name, b))
    assert other_seller.status_code == 404, (other_seller.status_code, other_seller.content[:300])
    if len(argument_names(name)) > 1:
        foreign_object = api_call(owner_a, method, build_url(name, a, b), body_for(name, b))
        assert foreign_object.status_code == 404, (foreign_object.status_code, foreign_object.content[:300])
    _assert_b_untouched(b)


@pytest.mark.parametrize(("name", "method"), api_cases())
def test_api_route_refuses_a_member_lacking_its_permission(worlds, name, method):
    a, _b = worlds
    permission = ROUTES[name].methods[method]
    response = api_call(a.secrets["plain"], method, build_url(name, a, a), body_for(name, a))
    if permission is None:
        assert response.status_code not in (401, 403, 404), (response.status_code, response.content[:300])
    else:
        expected = 404 if is_hidden(name, method) else 403
        assert response.status_code == expected, (response.status_code, response.content[:300])
        a.subject.refresh_from_db()
        assert a.subject.status == MembershipStatus.ACTIVE


@pytest.mark.parametrize(("name", "method"), api_cases())
def test_api_route_refuses_a_suspended_members_token(worlds, name, method):
    a, _b = worlds
    response = api_call(a.secrets["suspended"], method, build_url(name, a, a), body_for(name, a))
    assert response.status_code == 401, (response.status_code, response.content[:300])


@pytest.mark.parametrize("name", seller_routes(CALLER))
def test_caller_route_refuses_a_suspended_members_token(worlds, name):
    a, _b = worlds
    if name.startswith("api:"):
        assert api_call(a.secrets["plain"], "GET", reverse(name)).status_code == 200
        assert api_call(a.secrets["suspended"], "GET", reverse(name)).status_code == 401


def _assert_b_untouched(b):
    b.subject.refresh_from_db()
    b.token.refresh_from_db()
    assert b.subject.status == MembershipStatus.ACTIVE and b.subject.job_title == ""
    assert b.token.revoked_at is None
    if not ROLES:
        return
    b.store.refresh_from_db()
    b.warehouse.refresh_from_db()
    b.role.refresh_from_db()
    assert b.store.is_active and b.store.name == "Store" and b.warehouse.is_active
    assert Assignment.objects.filter(pk=b.assignment.pk).exists()


# --- API id filters ----------------------------------------------------------------------------------
# Query parameters that filter by one of the seller's objects -> the object of a world it names. Each
# answers 400 `{name: ["Not found."]}` for another seller's object exactly as for an unknown id.
ID_FILTERS = {
    "actor": lambda world: world.owner.user,
    "membership_id": lambda world: world.subject,
    "role": lambda world: world.role,
    "role_id": lambda world: world.role,
    "store": lambda world: world.store,
}
# The API's other integer query parameters, and why they are no id filter.
OTHER_INTEGER_PARAMETERS = {
    "page": "a page number",
    "page_size": "a page size",
    "target_id": "with target_type, an object of any kind, deleted ones too: the log outlives its objects",
    "move_to": "not a filter: where a deleted role's assignments go, a role looked up like the URL's (404)",
}
MISSING_ID = 999_999_999


def integer_query_parameters() -> list[tuple[str, str, str]]:
    """(path, method, name) of every integer query parameter of the API's schema."""
    document = Client().get("/api/schema/?format=json").json()
    return [
        (path, method.upper(), parameter["name"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and parameter["schema"].get("type") == "integer"
    ]


def test_every_integer_query_parameter_of_the_api_is_known():
    names = {name for _path, _method, name in integer_query_parameters()}
    unknown = sorted(names - set(ID_FILTERS) - set(OTHER_INTEGER_PARAMETERS))
    assert not unknown, f"add these to ID_FILTERS or OTHER_INTEGER_PARAMETERS in {__file__}: {unknown}"


def _comparable(body) -> dict:
    return {key: value for key, value in body.items() if key not in ("instance", "request_id")}


@pytest.mark.parametrize("name", sorted(ID_FILTERS))
def test_api_id_filter_refuses_another_sellers_object_exactly_as_an_unknown_id(worlds, name):
    a, b = worlds
    if ID_FILTERS[name](a) is None:
        pytest.skip("names an object of the roles app")
    routes = [(path, method) for path, method, parameter in integer_query_parameters() if parameter == name]
    assert routes
    for path, method in routes:
        base = re.sub(
            r"\{(\w+)\}",
            lambda match: str(a.seller.pk if match[1] == "seller_id" else OBJECT_ARGUMENTS[match[1]](a)),
            path,
        )

        def call(value, base=base, method=method):
            return api_call(a.secrets["owner"], method, f"{base}?{urlencode({name: value})}")

        ours = call(ID_FILTERS[name](a).pk)
        assert ours.status_code == 200, (path, ours.status_code, ours.content[:300])
        refused = [call(ID_FILTERS[name](b).pk), call(MISSING_ID)]
        for response in refused:
            assert response.status_code == 400, (path, response.status_code, response.content[:300])
        foreign, missing = (_comparable(response.json()) for response in refused)
        assert foreign == missing, path
        assert foreign["type"] == "urn:ozonseat:problem:invalid", path
        assert foreign["errors"] == {name: ["Not found."]}, path
        not_a_number = call("north")
        assert not_a_number.status_code == 400 and list(not_a_number.json()["errors"]) == [name], path
    _assert_b_untouched(b)


# --- dashboard ---------------------------------------------------------------------------------------


def dashboard_cases():
    return [(name, method) for name in seller_routes(DASHBOARD) for method in ROUTES[name].methods]


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.mark.parametrize(("name", "method"), dashboard_cases())
def test_dashboard_route_answers_404_for_another_sellers_objects(worlds, name, method):
    a, b = worlds
    client = signed_in(a.owner)
    assert client.generic(method, build_url(name, b, b)).status_code == 404
    if len(argument_names(name)) > 1 + len(ROUTES[name].extra):
        assert client.generic(method, build_url(name, a, b)).status_code == 404
    assert client.generic(method, build_url(name, a, a)).status_code < 400


@pytest.mark.parametrize(("name", "method"), dashboard_cases())
def test_dashboard_route_refuses_a_member_lacking_its_permission(worlds, name, method):
    a, _b = worlds
    response = signed_in(a.plain).generic(method, build_url(name, a, a))
    if ROUTES[name].methods[method] is None:
        assert response.status_code < 400
    else:
        assert response.status_code == (404 if is_hidden(name, method) else 403)


@pytest.mark.parametrize(("name", "method"), dashboard_cases())
def test_dashboard_route_ends_a_suspended_members_session(worlds, name, method):
    a, _b = worlds
    member = make_member(a.seller)
    client = signed_in(member)
    assert client.get(reverse("accounts:members", kwargs={"seller_id": a.seller.pk})).status_code == 200
    services.suspend_member(actor=a.owner.user, membership=member)
    response = client.generic(method, build_url(name, a, a))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(
    "name", ["dashboard:store_options", "dashboard:warehouse_options", "dashboard:people_options"]
)
def test_searchable_select_options_name_only_the_sellers_own(worlds, name):
    """The options endpoints search only the seller in the URL: B's store, warehouse and people (whose
    names match the same words) never appear in A's options, whatever is searched."""
    a, b = worlds
    client = signed_in(a.owner)
    own = {
        "dashboard:store_options": {a.store.pk},
        "dashboard:warehouse_options": {a.warehouse.pk},
        "dashboard:people_options": {m.user_id for m in (a.owner, a.subject, a.plain, a.suspended)},
    }[name]
    foreign = {
        "dashboard:store_options": {b.store.pk},
        "dashboard:warehouse_options": {b.warehouse.pk},
        "dashboard:people_options": {m.user_id for m in (b.owner, b.subject, b.plain, b.suspended)},
    }[name]
    for search in ("", "Store", "Warehouse", "@", "example", "1", "inactive=1"):
        query = {"q": search} if search != "inactive=1" else {"inactive": "1"}
        response = client.get(reverse(name, kwargs={"seller_id": a.seller.pk}), query)
        assert response.status_code == 200
        found = {row["id"] for row in response.json()["results"]}
        assert not found & foreign, (search, found)
    everything = client.get(reverse(name, kwargs={"seller_id": a.seller.pk})).json()["results"]
    assert {row["id"] for row in everything} == own


# --- the rest ------------------------------------------------------------------------------------------


def test_switch_seller_refuses_foreign(worlds):
    a, b = worlds
    response = signed_in(a.owner).post(reverse("accounts:switch_seller"), {"seller": b.seller.pk})
    assert response.status_code == 404


def test_admin_is_staff_only(worlds):
    a, _b = worlds
    admin_routes = [route for _n, route, _p in walk() if route.startswith(ADMIN_PREFIX)]
    assert admin_routes
    client = signed_in(a.owner)
    for path in ("/admin/", f"/admin/accounts/membership/{a.subject.pk}/change/", "/admin/accounts/user/"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], path
