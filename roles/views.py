"""Dashboard pages for roles, stores and warehouses, and the access section of a member's page.
Thin: parse, call one service or selector, render."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.authorization import member_has_seller_permission
from accounts.decorators import record_refusal, seller_view
from accounts.forms import apply_service_error
from accounts.models import MembershipStatus
from ozonseat import spreadsheets
from ozonseat.errors import Conflict, InvalidInput, NotAllowed
from ozonseat.paging import page_links

from . import authority, catalog, matrix, selectors, services, visibility
from .forms import (
    CloneRoleForm,
    DeleteRoleForm,
    GrantForm,
    MatrixFilterForm,
    RenameForm,
    RoleForm,
    ScopeForm,
    StoreForm,
    WarehouseForm,
    WarehouseKindForm,
)
from .models import ScopeKind, Store, Warehouse

# --- roles ----------------------------------------------------------------------------------------


@seller_view()
@require_safe
def role_list(request, *, seller, membership):
    """Every member reads the matrix; a role manager ticks and saves its columns."""
    can_manage = member_has_seller_permission(membership, catalog.ROLES_MANAGE)
    roles = list(selectors.list_roles(seller))
    # Nobody edits a role they hold, nor one held by someone they may not act on (services refuse both).
    editable = authority.role_ids_actor_may_edit(membership, roles) if can_manage else set()
    for role in roles:
        role.editable = role.pk in editable
    matrix = [
        (permission, [(role, permission.codename in role.permissions) for role in roles])
        for permission in catalog.all_permissions()
    ]
    return render(request, "roles/roles.html", {"roles": roles, "matrix": matrix, "can_manage": can_manage})


class _PermissionsForm(RoleForm):
    name = None
    description = None


@seller_view(catalog.ROLES_MANAGE)
@require_POST
def role_permissions(request, role_id, *, seller, membership):
    """One column of the matrix saved: the role's permissions."""
    role = selectors.get_role_for_seller(seller, role_id)
    form = _PermissionsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose at least one permission."))
    else:
        try:
            services.update_role(actor=request.user, role=role, permissions=form.cleaned_data["permissions"])
        except (InvalidInput, NotAllowed) as error:
            if isinstance(error, NotAllowed):
                record_refusal(request, seller=seller, error=error)
            messages.error(request, error.message)
        else:
            messages.success(request, _("Role %(name)s saved.") % {"name": role.display_name})
    return redirect("roles:roles", seller_id=seller.pk)


@seller_view(catalog.ROLES_MANAGE)
@require_http_methods(["GET", "POST"])
def role_create(request, *, seller, membership):
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            role = services.create_role(actor=request.user, seller=seller, **form.cleaned_data)
        except (InvalidInput, NotAllowed) as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Role created."))
            return redirect("roles:role_edit", seller_id=seller.pk, role_id=role.pk)
    return render(request, "roles/role_form.html", {"form": form, "role": None, "catalog": catalog})


@seller_view(change_permission=catalog.ROLES_MANAGE)
@require_http_methods(["GET", "POST"])
def role_edit(request, role_id, *, seller, membership):
    role = selectors.get_role_for_seller(seller, role_id)
    refusal = (
        authority.role_refusal(membership, role)
        if member_has_seller_permission(membership, catalog.ROLES_MANAGE)
        else NotAllowed(_("Only people who may manage roles can change this role."))
    )
    if refusal is not None:
        return _read_only_role(request, role, refusal)
    initial = {"name": role.name, "description": role.description, "permissions": role.permissions}
    form = RoleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_role(actor=request.user, role=role, **form.cleaned_data)
        except (InvalidInput, NotAllowed) as error:
            if isinstance(error, NotAllowed):
                record_refusal(request, seller=seller, error=error)
            apply_service_error(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("roles:role_edit", seller_id=seller.pk, role_id=role.pk)
    return render(request, "roles/role_form.html", {"form": form, "role": role, "catalog": catalog})


def _read_only_role(request, role, refusal):
    """A role the actor may not change: its permissions and why (a change is refused and recorded)."""
    if request.method == "POST":
        raise refusal
    permissions = [p for p in catalog.all_permissions() if p.codename in role.permissions]
    return render(request, "roles/role.html", {"role": role, "permissions": permissions, "refusal": refusal})


@seller_view(catalog.ROLES_MANAGE)
@require_http_methods(["GET", "POST"])
def role_clone(request, role_id, *, seller, membership):
    role = selectors.get_role_for_seller(seller, role_id)
    form = CloneRoleForm(request.POST or None, initial={"name": _("Copy of %(name)s") % {"name": role}})
    if request.method == "POST" and form.is_valid():
        try:
            clone = services.clone_role(actor=request.user, role=role, name=form.cleaned_data["name"])
        except (InvalidInput, NotAllowed) as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Role copied."))
            return redirect("roles:role_edit", seller_id=seller.pk, role_id=clone.pk)
    return render(request, "roles/role_clone.html", {"form": form, "role": role})


@seller_view(catalog.ROLES_MANAGE)
@require_http_methods(["GET", "POST"])
def role_delete(request, role_id, *, seller, membership):
    role = selectors.get_role_for_seller(seller, role_id)
    refusal = authority.role_refusal(membership, role)
    if refusal is not None:
        return _read_only_role(request, role, refusal)
    holders = role.assignments.count()
    others = [r for r in selectors.roles_for_choice(seller) if r.pk != role.pk]
    form = DeleteRoleForm(request.POST or None, roles=others, required=bool(holders))
    if request.method == "POST" and form.is_valid():
        move_to = form.cleaned_data["move_to"]
        try:
            services.delete_role(
                actor=request.user,
                role=role,
                move_to=selectors.get_role_for_seller(seller, move_to) if move_to else None,
            )
        except (InvalidInput, Conflict, NotAllowed) as error:
            if isinstance(error, NotAllowed):
                record_refusal(request, seller=seller, error=error)
            apply_service_error(form, error)
        else:
            messages.success(request, _("Role deleted."))
            return redirect("roles:roles", seller_id=seller.pk)
    return render(request, "roles/role_delete.html", {"form": form, "role": role, "holders": holders})


@seller_view(catalog.ROLES_MANAGE)
@require_http_methods(["GET", "POST"])
def role_templates(request, *, seller, membership):
    """The shipped templates the seller has no copy of (it was created before they existed), each with its
    permissions; `?add=<key>` asks to confirm adding one, and the POST adds it (a role like any other)."""
    missing = services.missing_templates(seller)
    by_key = {template.key: template for template in missing}
    chosen = by_key.get(request.POST.get("template") if request.method == "POST" else request.GET.get("add"))
    back = reverse("roles:role_templates", args=[seller.pk])
    if request.method == "POST":
        try:
            if chosen is None:
                raise InvalidInput(field="template", message=_("Choose one of the role templates."))
            role = services.add_role_from_template(actor=request.user, seller=seller, template_key=chosen.key)
        except (InvalidInput, Conflict, NotAllowed) as error:
            if isinstance(error, NotAllowed):
                record_refusal(request, seller=seller, error=error)
            messages.error(request, error.message)
            return redirect(back)
        messages.success(request, _("Role %(name)s added.") % {"name": role.display_name})
        return redirect("roles:role_edit", seller_id=seller.pk, role_id=role.pk)
    templates = [
        (
            template,
            [catalog.get(codename) for codename in catalog.codenames() if codename in template.permissions],
        )
        for template in missing
    ]
    return render(
        request,
        "roles/role_templates.html",
        {"templates": templates, "chosen": chosen, "cancel_url": back},
    )


# --- stores and warehouses ------------------------------------------------------------------------


STORES_PER_PAGE = 10


@seller_view(change_permission=catalog.STORES_MANAGE)
@require_http_methods(["GET", "POST"])
def store_list(request, *, seller, membership):
    can_manage = member_has_seller_permission(membership, catalog.STORES_MANAGE)
    form = StoreForm(request.POST or None) if can_manage else None
    if request.method == "POST" and form.is_valid():
        try:
            store = services.add_store(actor=request.user, seller=seller, **form.cleaned_data)
        except InvalidInput as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Store %(name)s added.") % {"name": store.name})
            return redirect("roles:stores", seller_id=seller.pk)
    # STORES_PER_PAGE at a time (each with its warehouses): the page stays small for 500 stores.
    # A picker sees where they work, not every warehouse (visibility.visible_places).
    stores = visibility.list_stores_seen_by(seller, membership)
    page = Paginator(stores, STORES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "roles/stores.html",
        {
            "stores": list(page.object_list),
            "stores_links": page_links(request, page),
            "form": form,
            "can_manage": can_manage,
        },
    )


@seller_view(change_permission=catalog.STORES_MANAGE)
@require_http_methods(["GET", "POST"])
def store_detail(request, store_id, *, seller, membership):
    store = selectors.get_store_for_seller(seller, store_id)
    places = visibility.visible_places(membership)
    if places is not None and not Store.objects.filter(places.store_q, pk=store.pk).exists():
        raise Http404()
    warehouses = visibility.list_warehouses_seen_by(seller, membership, store=store)
    if not member_has_seller_permission(membership, catalog.STORES_MANAGE):
        return render(
            request, "roles/store.html", {"store": store, "warehouses": warehouses, "can_manage": False}
        )
    is_rename = request.POST.get("form") == "rename"
    rename_form = RenameForm(
        request.POST if is_rename else None, initial={"name": store.name}, prefix="rename"
    )
    warehouse_form = WarehouseForm(
        request.POST if request.method == "POST" and not is_rename else None, prefix="warehouse"
    )
    if request.method == "POST":
        form = rename_form if is_rename else warehouse_form
        if form.is_valid():
            try:
                if is_rename:
                    services.rename_store(actor=request.user, store=store, name=form.cleaned_data["name"])
                else:
                    services.add_warehouse(actor=request.user, store=store, **form.cleaned_data)
            except (InvalidInput, Conflict) as error:
                apply_service_error(form, error)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("roles:store", seller_id=seller.pk, store_id=store.pk)
    return render(
        request,
        "roles/store.html",
        {
            "store": store,
            "warehouses": warehouses,
            "rename_form": rename_form,
            "warehouse_form": warehouse_form,
            "can_manage": True,
        },
    )


def _confirm(request, *, label, consequence, cancel_url):
    return render(
        request, "roles/confirm.html", {"label": label, "consequence": consequence, "cancel_url": cancel_url}
    )


@seller_view(catalog.STORES_MANAGE)
@require_http_methods(["GET", "POST"])
def store_deactivate(request, store_id, *, seller, membership):
    store = selectors.get_store_for_seller(seller, store_id)
    if request.method == "POST":
        try:
            services.deactivate_store(actor=request.user, store=store)
        except Conflict as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Store %(name)s deactivated.") % {"name": store.name})
        return redirect("roles:stores", seller_id=seller.pk)
    return _confirm(
        request,
        label=_("Deactivate store %(name)s") % {"name": store.name},
        consequence=_(
            "The store and its warehouses disappear everywhere and nobody can act on them any more. "
            "Its history stays in the audit log."
        ),
        cancel_url=reverse("roles:store", args=[seller.pk, store.pk]),
    )


@seller_view(change_permission=catalog.STORES_MANAGE)
@require_http_methods(["GET", "POST"])
def warehouse_detail(request, warehouse_id, *, seller, membership):
    warehouse = selectors.get_warehouse_for_seller(seller, warehouse_id)
    places = visibility.visible_places(membership)
    if places is not None and not Warehouse.objects.filter(places.warehouse_q, pk=warehouse.pk).exists():
        raise Http404()
    can_manage = member_has_seller_permission(membership, catalog.STORES_MANAGE)
    changing_kind = request.method == "POST" and request.POST.get("form") == "kind"
    form = kind_form = None
    if can_manage:
        form = RenameForm(
            request.POST if request.method == "POST" and not changing_kind else None,
            initial={"name": warehouse.name},
        )
        kind_form = WarehouseKindForm(
            request.POST if changing_kind else None, initial={"kind": warehouse.kind}, prefix="kind"
        )
    if request.method == "POST":
        bound = kind_form if changing_kind else form
        if bound.is_valid():
            try:
                if changing_kind:
                    services.change_warehouse_kind(
                        actor=request.user, warehouse=warehouse, kind=bound.cleaned_data["kind"]
                    )
                else:
                    services.rename_warehouse(
                        actor=request.user, warehouse=warehouse, name=bound.cleaned_data["name"]
                    )
            except (InvalidInput, Conflict) as error:
                apply_service_error(bound, error)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("roles:store", seller_id=seller.pk, store_id=warehouse.store_id)
    return render(
        request,
        "roles/warehouse.html",
        {"warehouse": warehouse, "form": form, "kind_form": kind_form, "can_manage": can_manage},
    )


@seller_view(catalog.STORES_MANAGE)
@require_http_methods(["GET", "POST"])
def warehouse_deactivate(request, warehouse_id, *, seller, membership):
    warehouse = selectors.get_warehouse_for_seller(seller, warehouse_id)
    if request.method == "POST":
        try:
            services.deactivate_warehouse(actor=request.user, warehouse=warehouse)
        except Conflict as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Warehouse %(name)s deactivated.") % {"name": warehouse.name})
        return redirect("roles:store", seller_id=seller.pk, store_id=warehouse.store_id)
    return _confirm(
        request,
        label=_("Deactivate warehouse %(name)s") % {"name": warehouse.name},
        consequence=_("Nobody can act on this warehouse any more. Its history stays in the audit log."),
        cancel_url=reverse("roles:store", args=[seller.pk, warehouse.store_id]),
    )


# --- a member's access ----------------------------------------------------------------------------


def _grant_form(seller, data=None):
    # Stores and warehouses are searchable selects loaded on demand: the page holds only the chosen ones.
    return GrantForm(data, roles=selectors.roles_for_choice(seller), seller=seller, prefix="grant")


def member_access_context(request, *, seller, membership, target, grant_form=None) -> dict:
    """The access section of a member's page (templates/roles/member_access.html): the grid of what they
    may do a page of stores and of warehouses at a time (`stores_page`, `warehouses_page`)."""
    can_manage = member_has_seller_permission(membership, catalog.MEMBERS_MANAGE)
    # The page itself is only for members the viewer may see (roles.member_views): their access too.
    if not (target.pk == membership.pk or not authority.people_reach(membership).is_empty):
        return {"access_visible": False}
    # The one rule (roles.authority): no grant form or "take away" for a member the services would refuse,
    # and nothing for a removed member (their page is history).
    can_grant = (
        can_manage
        and target.status != MembershipStatus.REMOVED
        and authority.may_act_on(membership, target, catalog.MEMBERS_MANAGE)
    )
    grid = selectors.effective_permissions_page(
        target,
        stores_page=request.GET.get("stores_page"),
        warehouses_page=request.GET.get("warehouses_page"),
    )
    store_permissions = [p for p in catalog.all_permissions() if p.level == catalog.STORE]
    warehouse_permissions = [p for p in catalog.all_permissions() if p.level == catalog.WAREHOUSE]
    # Why each cell is allowed: the assignments granting it, as the access matrix says.
    granted = matrix.access_matrix(seller, membership_ids=[target.pk])

    def why(level, object_id, codename):
        return "; ".join(matrix.grant_in_words(g) for g in granted.why(target.pk, level, object_id, codename))

    return {
        "access_visible": True,
        "assignments": selectors.assignments_of(target),
        "can_grant": can_grant,
        "grant_form": (grant_form or _grant_form(seller)) if can_grant else None,
        "seller_permissions": [p for p in catalog.all_permissions() if p.level == catalog.SELLER],
        "held_seller_permissions": grid.seller_permissions,
        "seller_why": {
            p.codename: why(catalog.SELLER, seller.pk, p.codename)
            for p in catalog.all_permissions()
            if p.codename in grid.seller_permissions
        },
        "store_permissions": store_permissions,
        "store_grid": [
            (
                store,
                [
                    (
                        p.codename in held,
                        why(catalog.STORE, store.pk, p.codename) if p.codename in held else "",
                    )
                    for p in store_permissions
                ],
            )
            for store, held in grid.stores
        ],
        "stores_links": page_links(request, grid.stores_page, "stores_page"),
        "warehouse_permissions": warehouse_permissions,
        "warehouse_grid": [
            (
                warehouse,
                [
                    (
                        p.codename in held,
                        why(catalog.WAREHOUSE, warehouse.pk, p.codename) if p.codename in held else "",
                    )
                    for p in warehouse_permissions
                ],
            )
            for warehouse, held in grid.warehouses
        ],
        "warehouses_links": page_links(request, grid.warehouses_page, "warehouses_page"),
    }


@seller_view(catalog.MEMBERS_MANAGE)
@require_POST
def grant(request, membership_id, *, seller, membership):
    target = visibility.get_visible_member_for_seller(seller, membership, membership_id)
    form = _grant_form(seller, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.grant_role(
                actor=request.user,
                membership=target,
                role=selectors.get_role_for_seller(seller, data["role"]),
                scope_kind=data["scope_kind"],
                market=data["market"] or None,
                stores=data["stores"],
                warehouses=data["warehouses"],
                **({"ends_at": data["ends_at"]} if data.get("ends_at") else {}),
            )
        except (InvalidInput, Conflict, NotAllowed) as error:
            if isinstance(error, NotAllowed):
                record_refusal(request, seller=seller, error=error)
            apply_service_error(form, error)
        else:
            messages.success(request, _("Role given."))
            return redirect("accounts:member", seller_id=seller.pk, membership_id=target.pk)
    for error in form.non_field_errors():
        messages.error(request, error)
    for name, errors in form.errors.items():
        if name != "__all__":
            for error in errors:
                messages.error(request, f"{form.fields[name].label}: {error}")
    return redirect("accounts:member", seller_id=seller.pk, membership_id=target.pk)


@seller_view(catalog.MEMBERS_MANAGE)
@require_http_methods(["GET", "POST"])
def revoke(request, assignment_id, *, seller, membership):
    assignment = selectors.get_assignment_for_seller(seller, assignment_id)
    target = visibility.get_visible_member_for_seller(seller, membership, assignment.membership_id)
    if request.method == "GET" and not authority.may_act_on(membership, target, catalog.MEMBERS_MANAGE):
        return redirect("accounts:member", seller_id=seller.pk, membership_id=target.pk)
    if request.method == "POST":
        try:
            services.revoke_assignment(actor=request.user, assignment=assignment)
        except NotAllowed as error:
            record_refusal(request, seller=seller, error=error)
            messages.error(request, error.message)
        else:
            messages.success(request, _("Role taken away."))
        return redirect("accounts:member", seller_id=seller.pk, membership_id=target.pk)
    return _confirm(
        request,
        label=_("Take the role %(role)s from %(name)s")
        % {"role": assignment.role.display_name, "name": target.display_name},
        consequence=_("Scope: %(scope)s. The permissions this role gives there end at once.")
        % {"scope": _scope_in_words(assignment)},
        cancel_url=reverse("accounts:member", args=[seller.pk, target.pk]),
    )


@seller_view(catalog.MEMBERS_MANAGE)
@require_http_methods(["GET", "POST"])
def assignment_scope(request, assignment_id, *, seller, membership):
    """Change where an assignment applies: the form, then a confirmation of what is gained and lost, then
    one service call. Only for a member the actor may act on (the service refuses the rest)."""
    assignment = selectors.get_assignment_for_seller(seller, assignment_id)
    target = visibility.get_visible_member_for_seller(seller, membership, assignment.membership_id)
    back = reverse("accounts:member", args=[seller.pk, target.pk])
    if target.status == MembershipStatus.REMOVED or not authority.may_act_on(
        membership, target, catalog.MEMBERS_MANAGE
    ):
        if request.method == "POST":
            raise NotAllowed()
        return redirect(back)
    initial = {
        "scope_kind": assignment.scope_kind,
        "market": assignment.market,
        "stores": [s.pk for s in assignment.stores.all()],
        "warehouses": [w.pk for w in assignment.warehouses.all()],
    }
    form = ScopeForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        stores=selectors.list_stores(seller),
        # A warehouse scope gives something only on FBS and rFBS warehouses.
        warehouses=[w for w in selectors.list_warehouses(seller) if w.holds_permissions],
    )
    change = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        scope = {
            "scope_kind": data["scope_kind"],
            "market": data["market"] or None,
            "stores": data["stores"],
            "warehouses": data["warehouses"],
        }
        if "confirm" in request.POST:
            try:
                services.change_assignment_scope(actor=request.user, assignment=assignment, **scope)
            except (InvalidInput, Conflict, NotAllowed) as error:
                if isinstance(error, NotAllowed):
                    record_refusal(request, seller=seller, error=error)
                apply_service_error(form, error)
            else:
                messages.success(request, _("Scope changed."))
                return redirect(back)
        else:
            change = matrix.scope_change(assignment, **scope)
    return render(
        request,
        "roles/assignment_scope.html",
        {
            "assignment": assignment,
            "target": target,
            "form": form,
            "change": change,
            "current_scope": matrix.scope_in_words(assignment),
            "cancel_url": back,
        },
    )


def _scope_in_words(assignment) -> str:
    """The scope as the member's page lists it: "Chosen warehouses: Moscow store · Khimki, …"."""
    kind = assignment.get_scope_kind_display()
    if assignment.scope_kind == ScopeKind.MARKET:
        places = [assignment.get_market_display()]
    elif assignment.scope_kind == ScopeKind.STORES:
        places = [store.name for store in assignment.stores.order_by("name", "pk")]
    elif assignment.scope_kind == ScopeKind.WAREHOUSES:
        warehouses = assignment.warehouses.select_related("store").order_by("store__name", "name", "pk")
        places = [f"{warehouse.store.name} · {warehouse.name}" for warehouse in warehouses]
    else:
        return str(kind)
    return _("%(scope)s: %(places)s") % {"scope": kind, "places": ", ".join(places)}


# --- the access matrix ------------------------------------------------------------------------------


@seller_view(catalog.AUDIT_VIEW, everywhere=True)
@require_safe
def access_matrix(request, *, seller, membership):
    """Who may do what, where, and why: members x the seller, stores and warehouses x permissions, filtered
    by member, store and permission; `?export=csv` or `xlsx` downloads the same cells. A fixed number of
    queries whatever the seller's size."""
    everything = matrix.access_matrix(seller)
    form = MatrixFilterForm(request.GET or None, members=everything.members, stores=everything.places.stores)
    filters = form.cleaned_data if form.is_valid() else {}
    shown = everything
    if any(filters.get(name) for name in ("member", "store", "permission")):
        shown = matrix.narrow(
            everything,
            membership_id=filters.get("member"),
            store_id=filters.get("store"),
            permission=filters.get("permission") or None,
        )
    export = request.GET.get("export")
    if export in spreadsheets.CONTENT_TYPES:
        rows = matrix.export_rows(shown)
        content = (
            spreadsheets.csv_bytes(rows)
            if export == "csv"
            else spreadsheets.xlsx_bytes(rows, title=_("Access matrix"))
        )
        response = HttpResponse(content, content_type=spreadsheets.CONTENT_TYPES[export])
        response["Content-Disposition"] = f'attachment; filename="access-matrix-{seller.pk}.{export}"'
        response["Cache-Control"] = "no-store"
        return response
    tables = []
    for level, title in (
        (catalog.SELLER, _("On the seller")),
        (catalog.STORE, _("Per store")),
        (catalog.WAREHOUSE, _("Per warehouse")),
    ):
        permissions = [p for p in shown.permissions if p.level == level]
        rows = [
            (
                member,
                matrix.place_name(row_level, obj),
                [
                    (permission, "; ".join(matrix.grant_in_words(grant) for grant in grants))
                    for permission, grants in cells
                ],
            )
            for member, row_level, obj, cells in shown.rows()
            if row_level == level
        ]
        if permissions and rows:
            tables.append({"title": title, "permissions": permissions, "rows": rows})
    return render(
        request,
        "roles/access_matrix.html",
        {"form": form, "tables": tables, "query": request.GET.urlencode()},
    )
