"""Stores, warehouses, the permission catalog, roles, role templates and assignments.
Every write calls the same roles service as the dashboard."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts import selectors as account_selectors
from roles import catalog, role_templates
from roles import selectors as roles_selectors
from roles import services as roles_services
from roles import visibility as roles_visibility
from roles.models import Assignment, Market, ScopeKind, WarehouseKind

from .members import MemberAssignmentSerializer
from .pagination import IdCursorPagination
from .schema import ANY_MEMBER, needs
from .serializers import SellerObjectIdField, StrictSerializer
from .views import SellerView

# --- output ------------------------------------------------------------------------------------------


class WarehouseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    store_id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    country = serializers.CharField(help_text="Market code of the country the warehouse is in.")
    region = serializers.CharField()
    is_active = serializers.BooleanField()


class StoreSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    client_id = serializers.CharField()
    market = serializers.CharField()
    is_active = serializers.BooleanField()


class StoreWithWarehousesSerializer(StoreSerializer):
    warehouses = WarehouseSerializer(many=True, source="warehouses.all")


class PermissionSerializer(serializers.Serializer):
    codename = serializers.CharField()
    level = serializers.ChoiceField(choices=list(catalog.LEVELS))
    label = serializers.CharField()
    description = serializers.CharField()


class RoleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")
    description = serializers.CharField(source="display_description")
    template_key = serializers.CharField()
    permissions = serializers.ListField(child=serializers.CharField())
    default_days = serializers.IntegerField(
        allow_null=True, help_text="A grant of this role ends this many days out by default (null: no end)."
    )


class RoleTemplateSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    permissions = serializers.ListField(child=serializers.CharField())
    default_days = serializers.IntegerField(
        allow_null=True, help_text="A grant of a copy ends this many days out by default (null: no end)."
    )


class AssignmentSerializer(MemberAssignmentSerializer):
    membership_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()


# --- input -------------------------------------------------------------------------------------------


class StoreCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=150)
    client_id = serializers.CharField(max_length=32)
    market = serializers.ChoiceField(choices=Market.choices)


class RenameSerializer(StrictSerializer):
    name = serializers.CharField(max_length=150)


class WarehouseCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=150)
    kind = serializers.ChoiceField(choices=WarehouseKind.choices)
    country = serializers.ChoiceField(
        choices=Market.choices, required=False, help_text="Defaults to the store's market."
    )
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)


class RoleCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    permissions = serializers.ListField(child=serializers.CharField(max_length=64), max_length=200)


class RoleUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100, required=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    permissions = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=200, required=False
    )


class RoleCloneSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)


class RoleDeleteSerializer(StrictSerializer):
    move_to = serializers.IntegerField(
        required=False, min_value=1, help_text="Move the role's assignments to this role, at the same scope."
    )


class AssignmentCreateSerializer(StrictSerializer):
    membership_id = serializers.IntegerField(min_value=1)
    role_id = serializers.IntegerField(min_value=1)
    scope_kind = serializers.ChoiceField(choices=ScopeKind.choices)
    market = serializers.ChoiceField(choices=Market.choices, required=False, allow_null=True, default=None)
    store_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=500, default=list
    )
    warehouse_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=500, default=list
    )
    ends_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When the member's access ends. Left out: the role's `default_days` from now (a Technology "
        "partner's 90), or no change for a role without; null: no end date from this grant. A grant only "
        "brings an earlier end date, never a later one.",
    )


class AssignmentFilterSerializer(StrictSerializer):
    membership_id = SellerObjectIdField(
        account_selectors.get_membership_for_seller,
        required=False,
        help_text="Assignments of this member (membership id). Another seller's member or an unknown id "
        "answers 400.",
    )
    role_id = SellerObjectIdField(
        roles_selectors.get_role_for_seller,
        required=False,
        help_text="Assignments of this role (id). Another seller's role or an unknown id answers 400.",
    )
    cursor = serializers.CharField(required=False, help_text="The `next` or `previous` link's cursor.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)


def _valid(serializer_class, data, *, seller=None):
    serializer = serializer_class(data=data, context={"seller": seller})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- catalog and templates ---------------------------------------------------------------------------


class PermissionCatalogView(SellerView):
    @extend_schema(
        operation_id="permissions_list",
        responses=PermissionSerializer(many=True),
        summary="The permission catalog",
        description="Every permission roles are built from: its codename, level (seller, store or "
        f"warehouse), label and description. {ANY_MEMBER}",
    )
    def get(self, request, seller_id):
        return Response(PermissionSerializer(catalog.all_permissions(), many=True).data)


class RoleTemplateListView(SellerView):
    @extend_schema(
        operation_id="role_templates_list",
        responses=RoleTemplateSerializer(many=True),
        summary="Role templates shipped with OzonSeat",
        description="The ready-made roles, named as the Ozon Seller cabinet names them (Manager, "
        "Administrator, Product manager, …, Sales, Customer service, Analyst, Technology partner), with "
        f"their permissions; each new seller's roles start as copies of them. {ANY_MEMBER}",
    )
    def get(self, request, seller_id):
        return Response(RoleTemplateSerializer(role_templates.TEMPLATES, many=True).data)


# --- stores and warehouses ---------------------------------------------------------------------------
# Store and warehouse views share their shape, held by the bases below: each view names its object (the
# URL's `lookup_url_kwarg`, `find`, the `output` serializer) and the roles service it calls, and declares
# its schema with extend_schema_view. The bases carry no docstrings: drf-spectacular would publish them as
# the operations' descriptions.


class _ScopeView(SellerView):
    output: type[serializers.Serializer]

    def answer(self, obj, status_code=status.HTTP_200_OK):
        return Response(self.output(obj).data, status=status_code)


class _ScopeListView(_ScopeView):
    # POST validates `add_input` and adds the object to `parent()` (found first: a missing one is 404).
    permissions = {"POST": catalog.STORES_MANAGE}
    add_input: type[StrictSerializer]

    def parent(self):
        raise NotImplementedError

    def add(self, parent, **data):
        raise NotImplementedError

    def post(self, request, seller_id, **kwargs):
        parent = self.parent()
        data = _valid(self.add_input, request.data)
        return self.answer(self.add(parent, **data), status.HTTP_201_CREATED)


class _ScopeObjectView(_ScopeView):
    lookup_url_kwarg: str

    def find(self, pk):
        raise NotImplementedError

    def scope_object(self):
        return self.find(self.kwargs[self.lookup_url_kwarg])


class _ScopeDetailView(_ScopeObjectView):
    # GET reads the object; PATCH renames it.
    permissions = {"PATCH": catalog.STORES_MANAGE}

    def rename(self, obj, **data):
        raise NotImplementedError

    def get(self, request, seller_id, **kwargs):
        return self.answer(self.scope_object())

    def patch(self, request, seller_id, **kwargs):
        obj = self.scope_object()
        data = _valid(RenameSerializer, request.data)
        return self.answer(self.rename(obj, **data))


class _ScopeDeactivateView(_ScopeObjectView):
    permission = catalog.STORES_MANAGE

    def deactivate(self, obj):
        raise NotImplementedError

    def post(self, request, seller_id, **kwargs):
        return self.answer(self.deactivate(self.scope_object()))


class _StoreObject(_ScopeObjectView):
    lookup_url_kwarg = "store_id"
    output = StoreSerializer

    def find(self, pk):
        return roles_selectors.get_store_for_seller(self.seller, pk)


class _WarehouseObject(_ScopeObjectView):
    lookup_url_kwarg = "warehouse_id"
    output = WarehouseSerializer

    def find(self, pk):
        return roles_selectors.get_warehouse_for_seller(self.seller, pk)


@extend_schema_view(
    post=extend_schema(
        operation_id="stores_create",
        request=StoreCreateSerializer,
        responses={201: StoreSerializer},
        summary="Add a store",
        description="Add one of the seller's Ozon cabinets by its Client-ID and market. Members whose scope "
        f"is the whole seller or that market reach it at once. {needs(catalog.STORES_MANAGE)}",
    )
)
class StoreListView(_ScopeListView):
    output = StoreSerializer
    add_input = StoreCreateSerializer
    pagination_class = IdCursorPagination

    @extend_schema(
        operation_id="stores_list",
        responses=StoreWithWarehousesSerializer(many=True),
        summary="Active stores with their active warehouses",
        description="The seller's active stores, each with its active warehouses, oldest first in cursor "
        f"pages of `page_size` (default 100, at most 500): follow `next`. {ANY_MEMBER}",
    )
    def get(self, request, seller_id):
        page = self.paginate_queryset(roles_visibility.list_stores_seen_by(self.seller, self.membership))
        return self.get_paginated_response(StoreWithWarehousesSerializer(page, many=True).data)

    def parent(self):
        return self.seller

    def add(self, seller, **data):
        return roles_services.add_store(actor=self.actor, seller=seller, **data)


@extend_schema_view(
    get=extend_schema(
        operation_id="stores_read",
        responses=StoreSerializer,
        summary="Read a store",
        description=f"One active store of the seller; a deactivated one answers 404. {ANY_MEMBER}",
    ),
    patch=extend_schema(
        operation_id="stores_rename",
        request=RenameSerializer,
        responses=StoreSerializer,
        summary="Rename a store",
        description=f"Change an active store's name. {needs(catalog.STORES_MANAGE)}",
    ),
)
class StoreDetailView(_StoreObject, _ScopeDetailView):
    def rename(self, store, **data):
        return roles_services.rename_store(actor=self.actor, store=store, **data)


@extend_schema_view(
    post=extend_schema(
        operation_id="stores_deactivate",
        request=None,
        responses=StoreSerializer,
        summary="Deactivate a store and its warehouses",
        description="The store and its warehouses disappear from lists and grant nothing any more; their "
        f"history and assignments stay. {needs(catalog.STORES_MANAGE)}",
    )
)
class StoreDeactivateView(_StoreObject, _ScopeDeactivateView):
    def deactivate(self, store):
        return roles_services.deactivate_store(actor=self.actor, store=store)


@extend_schema_view(
    post=extend_schema(
        operation_id="warehouses_create",
        request=WarehouseCreateSerializer,
        responses={201: WarehouseSerializer},
        summary="Add a warehouse to a store",
        description=f"Add an FBS, rFBS or FBO warehouse to an active store. {needs(catalog.STORES_MANAGE)}",
    )
)
class WarehouseListView(_ScopeListView):
    output = WarehouseSerializer
    add_input = WarehouseCreateSerializer

    @extend_schema(
        operation_id="warehouses_list",
        responses=WarehouseSerializer(many=True),
        summary="Active warehouses of a store",
        description=f"The active warehouses of one active store. {ANY_MEMBER}",
    )
    def get(self, request, seller_id, store_id):
        warehouses = roles_visibility.list_warehouses_seen_by(
            self.seller, self.membership, store=self.parent()
        )
        return Response(WarehouseSerializer(warehouses, many=True).data)

    def parent(self):
        return roles_selectors.get_store_for_seller(self.seller, self.kwargs["store_id"])

    def add(self, store, **data):
        return roles_services.add_warehouse(actor=self.actor, store=store, **data)


@extend_schema_view(
    get=extend_schema(
        operation_id="warehouses_read",
        responses=WarehouseSerializer,
        summary="Read a warehouse",
        description=f"One active warehouse of an active store; a deactivated one answers 404. {ANY_MEMBER}",
    ),
    patch=extend_schema(
        operation_id="warehouses_rename",
        request=RenameSerializer,
        responses=WarehouseSerializer,
        summary="Rename a warehouse",
        description=f"Change an active warehouse's name. {needs(catalog.STORES_MANAGE)}",
    ),
)
class WarehouseDetailView(_WarehouseObject, _ScopeDetailView):
    def rename(self, warehouse, **data):
        return roles_services.rename_warehouse(actor=self.actor, warehouse=warehouse, **data)


@extend_schema_view(
    post=extend_schema(
        operation_id="warehouses_deactivate",
        request=None,
        responses=WarehouseSerializer,
        summary="Deactivate a warehouse",
        description="The warehouse disappears from lists and grants nothing any more; its history and "
        f"assignments stay. {needs(catalog.STORES_MANAGE)}",
    )
)
class WarehouseDeactivateView(_WarehouseObject, _ScopeDeactivateView):
    def deactivate(self, warehouse):
        return roles_services.deactivate_warehouse(actor=self.actor, warehouse=warehouse)


# --- roles -------------------------------------------------------------------------------------------


class RoleListView(SellerView):
    permissions = {"POST": catalog.ROLES_MANAGE}

    @extend_schema(
        operation_id="roles_list",
        responses=RoleSerializer(many=True),
        summary="The seller's roles",
        description=f"Every role of the seller, with its permissions. {ANY_MEMBER}",
    )
    def get(self, request, seller_id):
        # roles_for_choice, not list_roles: the response has no holder counts, which read every
        # assignment of the seller.
        return Response(RoleSerializer(roles_selectors.roles_for_choice(self.seller), many=True).data)

    @extend_schema(
        operation_id="roles_create",
        request=RoleCreateSerializer,
        responses={201: RoleSerializer},
        summary="Create a role",
        description="A named set of catalog permissions. You can only put in permissions you hold "
        f"yourself. {needs(catalog.ROLES_MANAGE)}",
    )
    def post(self, request, seller_id):
        data = _valid(RoleCreateSerializer, request.data)
        role = roles_services.create_role(actor=self.actor, seller=self.seller, **data)
        return Response(RoleSerializer(role).data, status=status.HTTP_201_CREATED)


class RoleDetailView(SellerView):
    permissions = {"PATCH": catalog.ROLES_MANAGE, "DELETE": catalog.ROLES_MANAGE}

    @extend_schema(
        operation_id="roles_read",
        responses=RoleSerializer,
        summary="Read a role",
        description=f"One role of the seller, with its permissions. {ANY_MEMBER}",
    )
    def get(self, request, seller_id, role_id):
        return Response(RoleSerializer(roles_selectors.get_role_for_seller(self.seller, role_id)).data)

    @extend_schema(
        operation_id="roles_update",
        request=RoleUpdateSerializer,
        responses=RoleSerializer,
        summary="Edit a role",
        description="Fields left out keep their value; every holder's access changes at once. You can "
        "only add permissions you hold yourself, wherever the role is held, and cannot edit a role you "
        "hold, nor one held by a member holding a permission you do not hold at the same or a wider "
        f"scope. {needs(catalog.ROLES_MANAGE)}",
    )
    def patch(self, request, seller_id, role_id):
        role = roles_selectors.get_role_for_seller(self.seller, role_id)
        data = _valid(RoleUpdateSerializer, request.data)
        return Response(RoleSerializer(roles_services.update_role(actor=self.actor, role=role, **data)).data)

    @extend_schema(
        operation_id="roles_delete",
        parameters=[RoleDeleteSerializer],
        responses={204: None},
        summary="Delete a role",
        description="A role still assigned needs `move_to`: its assignments move to that role, at the "
        "same scope. Refused, like an edit, for a role you hold or one held by a member holding a permission "
        f"you do not hold. {needs(catalog.ROLES_MANAGE)}",
    )
    def delete(self, request, seller_id, role_id):
        role = roles_selectors.get_role_for_seller(self.seller, role_id)
        data = _valid(RoleDeleteSerializer, request.query_params.dict())
        move_to = (
            roles_selectors.get_role_for_seller(self.seller, data["move_to"]) if "move_to" in data else None
        )
        roles_services.delete_role(actor=self.actor, role=role, move_to=move_to)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleCloneView(SellerView):
    permission = catalog.ROLES_MANAGE

    @extend_schema(
        operation_id="roles_clone",
        request=RoleCloneSerializer,
        responses={201: RoleSerializer},
        summary="Copy a role under a new name",
        description="A new role with the same permissions, to edit separately. You can only copy a role "
        f"whose permissions you all hold yourself. {needs(catalog.ROLES_MANAGE)}",
    )
    def post(self, request, seller_id, role_id):
        role = roles_selectors.get_role_for_seller(self.seller, role_id)
        data = _valid(RoleCloneSerializer, request.data)
        clone = roles_services.clone_role(actor=self.actor, role=role, **data)
        return Response(RoleSerializer(clone).data, status=status.HTTP_201_CREATED)


# --- assignments -------------------------------------------------------------------------------------


def _assignments(seller):
    # Assignment.seller is the membership's seller (kept by the database): a page of the index
    # (seller, id), where membership__seller walked every seller's assignments in id order.
    return (
        Assignment.objects.filter(seller=seller)
        .select_related("role")
        .prefetch_related("stores", "warehouses")
        .order_by("pk")
    )


class AssignmentListView(SellerView):
    permissions = {"POST": catalog.MEMBERS_MANAGE}
    pagination_class = IdCursorPagination

    @extend_schema(
        operation_id="assignments_list",
        parameters=[AssignmentFilterSerializer],
        responses=AssignmentSerializer(many=True),
        summary="Assignments: member x role x scope",
        description="Which member holds which role, at which scope (the whole seller, one market, chosen "
        "stores or chosen warehouses). `membership_id` and `role_id` narrow the list. Oldest first, in "
        f"cursor pages of `page_size` (default 100, at most 500): follow `next`. {ANY_MEMBER}",
    )
    def get(self, request, seller_id):
        filters = _valid(AssignmentFilterSerializer, request.query_params.dict(), seller=self.seller)
        # Whose access the caller may see: members.view over them, or their own.
        queryset = _assignments(self.seller).filter(
            membership__in=roles_visibility.visible_member_ids(self.seller, self.membership)
        )
        if "membership_id" in filters:
            queryset = queryset.filter(membership_id=filters["membership_id"])
        if "role_id" in filters:
            queryset = queryset.filter(role_id=filters["role_id"])
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(AssignmentSerializer(page, many=True).data)

    @extend_schema(
        operation_id="assignments_create",
        request=AssignmentCreateSerializer,
        responses={201: AssignmentSerializer},
        summary="Give a member a role at a scope",
        description="You can only give permissions and scopes you hold yourself, and only to a member "
        "whose every permission you hold at the same or a wider scope; the owner's access and your own "
        f"cannot be changed. {needs(catalog.MEMBERS_MANAGE)}",
    )
    def post(self, request, seller_id):
        data = _valid(AssignmentCreateSerializer, request.data)
        membership = roles_visibility.get_visible_member_for_seller(
            self.seller, self.membership, data["membership_id"]
        )
        role = roles_selectors.get_role_for_seller(self.seller, data["role_id"])
        stores = [
            roles_selectors.get_store_for_seller(self.seller, pk) for pk in dict.fromkeys(data["store_ids"])
        ]
        warehouses = [
            roles_selectors.get_warehouse_for_seller(self.seller, pk)
            for pk in dict.fromkeys(data["warehouse_ids"])
        ]
        assignment = roles_services.grant_role(
            actor=self.actor,
            membership=membership,
            role=role,
            scope_kind=data["scope_kind"],
            market=data["market"],
            stores=stores,
            warehouses=warehouses,
            **({"ends_at": data["ends_at"]} if "ends_at" in data else {}),
        )
        assignment = _assignments(self.seller).get(pk=assignment.pk)
        return Response(AssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)


class AssignmentDetailView(SellerView):
    permissions = {"DELETE": catalog.MEMBERS_MANAGE}

    @extend_schema(
        operation_id="assignments_read",
        responses=AssignmentSerializer,
        summary="Read an assignment",
        description=f"One assignment: member, role and scope. {ANY_MEMBER}",
    )
    def get(self, request, seller_id, assignment_id):
        roles_visibility.get_visible_assignment_for_seller(self.seller, self.membership, assignment_id)
        return Response(AssignmentSerializer(_assignments(self.seller).get(pk=assignment_id)).data)

    @extend_schema(
        operation_id="assignments_revoke",
        responses={204: None},
        summary="Take a role away",
        description="The member loses what the assignment gave at once. You must hold every permission the "
        "member holds (this assignment's included) at the same or a wider scope; the owner's access and "
        f"your own cannot be changed. {needs(catalog.MEMBERS_MANAGE)}",
    )
    def delete(self, request, seller_id, assignment_id):
        assignment = roles_visibility.get_visible_assignment_for_seller(
            self.seller, self.membership, assignment_id
        )
        roles_services.revoke_assignment(actor=self.actor, assignment=assignment)
        return Response(status=status.HTTP_204_NO_CONTENT)
