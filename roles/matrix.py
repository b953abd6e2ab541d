"""Who may do what, where — and why: the access matrix (members x the seller, its stores and warehouses x
catalog permissions), each allowed cell with the assignments that grant it, and what changing an
assignment's scope gains and loses.

Computed from the assignments (the truth), with the same scope rules as the index and the check: seller
permissions only for the whole seller; store permissions on the stores of the whole seller, a market or the
chosen stores; warehouse permissions on the warehouses of those stores, or of the chosen warehouses; the
owner holds everything; only an effective membership (active, before its end date) holds anything; a
deactivated store or warehouse is nowhere, and so is an FBO warehouse (its stock is Ozon's). A fixed
number of queries for any seller (see `access_matrix`).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, MembershipKind

from . import catalog, index
from .models import PERMISSION_WAREHOUSE_KINDS, Assignment, Market, ScopeKind, Store, Warehouse

OWNER = "owner"


@dataclass
class Places:
    """A seller's active stores and warehouses (two queries), for computing what scopes reach."""

    seller: object
    stores: list
    warehouses: list

    @classmethod
    def load(cls, seller) -> "Places":
        stores = list(Store.objects.filter(seller=seller, is_active=True).order_by("market", "name", "pk"))
        warehouses = list(
            Warehouse.objects.filter(
                seller=seller, is_active=True, store__is_active=True, kind__in=PERMISSION_WAREHOUSE_KINDS
            )
            .select_related("store")
            .order_by("store__market", "store__name", "name", "pk")
        )
        return cls(seller, stores, warehouses)

    def object(self, level, object_id):
        if level == catalog.SELLER:
            return self.seller
        return (self._stores if level == catalog.STORE else self._warehouses).get(object_id)

    @property
    def _stores(self):
        return {store.pk: store for store in self.stores}

    @property
    def _warehouses(self):
        return {warehouse.pk: warehouse for warehouse in self.warehouses}


def reach(places: Places, permissions, scope_kind, market, store_ids, warehouse_ids) -> set:
    """{(level, object id, codename)} that a role with `permissions` gives at a scope."""
    store_ids, warehouse_ids = set(store_ids), set(warehouse_ids)
    if scope_kind == ScopeKind.SELLER:
        stores = [s.pk for s in places.stores]
        warehouses = [w.pk for w in places.warehouses]
    elif scope_kind == ScopeKind.MARKET:
        stores = [s.pk for s in places.stores if s.market == market]
        warehouses = [w.pk for w in places.warehouses if w.store.market == market]
    elif scope_kind == ScopeKind.STORES:
        stores = [s.pk for s in places.stores if s.pk in store_ids]
        warehouses = [w.pk for w in places.warehouses if w.store_id in store_ids]
    else:
        stores = []
        warehouses = [w.pk for w in places.warehouses if w.pk in warehouse_ids]
    cells = set()
    for codename in permissions:
        if not catalog.exists(codename):
            continue
        level = catalog.level_of(codename)
        if level == catalog.SELLER:
            if scope_kind == ScopeKind.SELLER:
                cells.add((level, places.seller.pk, codename))
        elif level == catalog.STORE:
            cells.update((level, pk, codename) for pk in stores)
        else:
            cells.update((level, pk, codename) for pk in warehouses)
    return cells


def assignment_reach(places: Places, assignment) -> set:
    """What one loaded assignment (role, stores and warehouses prefetched) gives."""
    return reach(
        places,
        assignment.role.permissions,
        assignment.scope_kind,
        assignment.market,
        [s.pk for s in assignment.stores.all()],
        [w.pk for w in assignment.warehouses.all()],
    )


def _assignments():
    return (
        Assignment.objects.select_related("role")
        .prefetch_related(
            "stores", Prefetch("warehouses", queryset=Warehouse.objects.select_related("store"))
        )
        .order_by("pk")
    )


# --- in words ----------------------------------------------------------------------------------------


def place_name(level, obj) -> str:
    if level == catalog.SELLER:
        return _("The whole seller")
    if level == catalog.WAREHOUSE:
        return f"{obj.store.name} · {obj.name}"
    return obj.name


def scope_in_words(assignment) -> str:
    """The scope of a loaded assignment: "Chosen warehouses: Moscow store · Khimki, …"."""
    kind = assignment.get_scope_kind_display()
    if assignment.scope_kind == ScopeKind.MARKET:
        places = [str(dict(Market.choices).get(assignment.market, assignment.market))]
    elif assignment.scope_kind == ScopeKind.STORES:
        places = sorted(store.name for store in assignment.stores.all())
    elif assignment.scope_kind == ScopeKind.WAREHOUSES:
        places = sorted(f"{w.store.name} · {w.name}" for w in assignment.warehouses.all())
    else:
        return str(kind)
    return _("%(scope)s: %(places)s") % {"scope": kind, "places": ", ".join(places)}


def grant_in_words(grant) -> str:
    """Why a cell is allowed, in one phrase: "the owner", or "Role — scope" of an assignment."""
    if grant == OWNER:
        return _("Owner: holds every permission")
    return _("%(role)s — %(scope)s (assignment %(id)s)") % {
        "role": grant.role.display_name,
        "scope": scope_in_words(grant),
        "id": grant.pk,
    }


# --- gained and lost by a scope change -----------------------------------------------------------------


@dataclass
class ScopeChange:
    """What changing an assignment's scope does to the member: per place, the permissions gained and lost
    (those another assignment of theirs still gives are neither)."""

    gained: list = field(default_factory=list)  # [(place name, [CatalogPermission])]
    lost: list = field(default_factory=list)

    @property
    def changes_anything(self) -> bool:
        return bool(self.gained or self.lost)


def _grouped(places: Places, cells) -> list:
    by_place = defaultdict(list)
    for level, object_id, codename in cells:
        by_place[(level, object_id)].append(catalog.get(codename))
    order = {catalog.SELLER: 0, catalog.STORE: 1, catalog.WAREHOUSE: 2}
    position = {codename: n for n, codename in enumerate(catalog.codenames())}
    rows = []
    for (level, object_id), permissions in by_place.items():
        obj = places.object(level, object_id)
        rows.append(
            (
                (order[level], place_name(level, obj)),
                place_name(level, obj),
                sorted(permissions, key=lambda p: position[p.codename]),
            )
        )
    return [(name, permissions) for _key, name, permissions in sorted(rows, key=lambda row: row[0])]


def scope_change(assignment, *, scope_kind, market, stores, warehouses) -> ScopeChange:
    """Gained and lost if `assignment` were given this scope instead (stores and warehouses: objects or
    ids). Reads the seller's places and the member's other assignments: five queries."""
    membership = assignment.membership
    places = Places.load(membership.seller)
    old = reach(
        places,
        assignment.role.permissions,
        assignment.scope_kind,
        assignment.market,
        [s.pk for s in assignment.stores.all()],
        [w.pk for w in assignment.warehouses.all()],
    )
    new = reach(
        places,
        assignment.role.permissions,
        scope_kind,
        market or "",
        [getattr(s, "pk", s) for s in stores],
        [getattr(w, "pk", w) for w in warehouses],
    )
    others = set()
    for other in _assignments().filter(membership_id=membership.pk).exclude(pk=assignment.pk):
        others |= assignment_reach(places, other)
    return ScopeChange(gained=_grouped(places, new - old - others), lost=_grouped(places, old - new - others))


# --- the matrix --------------------------------------------------------------------------------------


@dataclass
class Matrix:
    places: Places
    members: list  # effective memberships, in the members list's order
    # (membership id, level, object id, codename) -> [OWNER or Assignment]
    cells: dict
    permissions: list  # the catalog permissions shown (all, or the filtered one)

    def why(self, membership_id, level, object_id, codename) -> list:
        return self.cells.get((membership_id, level, object_id, codename), [])

    def rows(self):
        """(membership, level, place, [(permission, grants)]) for every member x place where the member
        holds something, in order: members, then the seller, its stores, its warehouses."""
        by_level = {
            level: [p for p in self.permissions if p.level == level]
            for level in (catalog.SELLER, catalog.STORE, catalog.WAREHOUSE)
        }
        held = {(m, level, pk) for m, level, pk, _codename in self.cells}
        for membership in self.members:
            for level, objects in (
                (catalog.SELLER, [self.places.seller]),
                (catalog.STORE, self.places.stores),
                (catalog.WAREHOUSE, self.places.warehouses),
            ):
                for obj in objects:
                    if (membership.pk, level, obj.pk) not in held:
                        continue
                    yield (
                        membership,
                        level,
                        obj,
                        [(p, self.why(membership.pk, level, obj.pk, p.codename)) for p in by_level[level]],
                    )

    def allowed(self):
        """(membership, level, place, permission, grants) for every allowed cell, in the rows' order."""
        for membership, level, obj, cells in self.rows():
            for permission, grants in cells:
                if grants:
                    yield membership, level, obj, permission, grants


def narrow(whole: Matrix, *, membership_id=None, store_id=None, permission=None) -> Matrix:
    """A computed matrix narrowed to one member, one store (with its warehouses, without the seller's own
    permissions) or one permission — no further query (a page's filter choices come from the whole)."""
    places = Places(whole.places.seller, list(whole.places.stores), list(whole.places.warehouses))
    permissions = list(whole.permissions)
    members = list(whole.members)
    if membership_id is not None:
        members = [m for m in members if m.pk == membership_id]
    if store_id is not None:
        places.stores = [s for s in places.stores if s.pk == store_id]
        places.warehouses = [w for w in places.warehouses if w.store_id == store_id]
        permissions = [p for p in permissions if p.level != catalog.SELLER]
    if permission is not None:
        permissions = [p for p in permissions if p.codename == permission]
    member_ids = {m.pk for m in members}
    codenames = {p.codename for p in permissions}
    objects = {
        (catalog.SELLER, places.seller.pk),
        *((catalog.STORE, s.pk) for s in places.stores),
        *((catalog.WAREHOUSE, w.pk) for w in places.warehouses),
    }
    cells = {
        key: grants
        for key, grants in whole.cells.items()
        if key[0] in member_ids and key[3] in codenames and (key[1], key[2]) in objects
    }
    return Matrix(places, members, cells, permissions)


def access_matrix(seller, *, membership_ids=None, store_id=None, permission=None, now=None) -> Matrix:
    """The matrix of a seller, optionally narrowed to some members, one store (with its warehouses; the
    seller's own permissions are then left out) or one permission. Six queries, whatever the size."""
    now = now or timezone.now()
    places = Places.load(seller)
    if store_id is not None:
        places.stores = [s for s in places.stores if s.pk == store_id]
        places.warehouses = [w for w in places.warehouses if w.store_id == store_id]
    members = Membership.objects.filter(seller=seller).select_related("user").order_by("kind", "pk")
    if membership_ids is not None:
        members = members.filter(pk__in=membership_ids)
    members = [m for m in members if index.is_effective(m.status, m.ends_at, now)]
    permissions = catalog.all_permissions()
    if permission is not None:
        permissions = [p for p in permissions if p.codename == permission]
    if store_id is not None:
        permissions = [p for p in permissions if p.level != catalog.SELLER]
    wanted = {p.codename for p in permissions}
    cells = defaultdict(list)
    member_ids = [m.pk for m in members if m.kind != MembershipKind.OWNER]
    for membership in members:
        if membership.kind == MembershipKind.OWNER:
            for level, object_id, codename in reach(places, wanted, ScopeKind.SELLER, "", (), ()):
                cells[(membership.pk, level, object_id, codename)].append(OWNER)
    if member_ids:
        for assignment in _assignments().filter(membership_id__in=member_ids):
            permissions_here = [p for p in assignment.role.permissions if p in wanted]
            for level, object_id, codename in reach(
                places,
                permissions_here,
                assignment.scope_kind,
                assignment.market,
                [s.pk for s in assignment.stores.all()],
                [w.pk for w in assignment.warehouses.all()],
            ):
                cells[(assignment.membership_id, level, object_id, codename)].append(assignment)
    return Matrix(places, members, dict(cells), permissions)


# --- exports ---------------------------------------------------------------------------------------------


def level_label(level) -> str:
    return {catalog.SELLER: _("Seller"), catalog.STORE: _("Store"), catalog.WAREHOUSE: _("Warehouse")}[level]


def export_rows(matrix: Matrix):
    """The header and one row per allowed cell (member x place x permission) with why, in the active
    language: what the CSV and XLSX exports hold. A cell that is not listed is not allowed."""
    yield [
        _("Member id"),
        _("Member"),
        _("Level"),
        _("Place id"),
        _("Place"),
        _("Market"),
        _("Permission"),
        _("Permission name"),
        _("Granted by"),
        _("Assignment ids"),
    ]
    for membership, level, obj, permission, grants in matrix.allowed():
        market = (
            "" if level == catalog.SELLER else (obj.market if level == catalog.STORE else obj.store.market)
        )
        yield [
            membership.pk,
            str(membership.display_name),
            str(level_label(level)),
            obj.pk,
            place_name(level, obj),
            market,
            permission.codename,
            str(permission.label),
            "; ".join(grant_in_words(grant) for grant in grants),
            " ".join(str(grant.pk) for grant in grants if grant != OWNER),
        ]
