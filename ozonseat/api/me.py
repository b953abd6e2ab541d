"""The caller: their user, the memberships they act in, and what they may do there."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.authorization import member_has_seller_permission
from accounts.models import ApiToken, Membership

from .permissions import seller_permission_codenames
from .roles_support import ROLES
from .views import ApiView

if ROLES:
    from roles import catalog
    from roles.models import Store, Warehouse
    from roles.selectors import effective_permission_ids


class ObjectPermissionsSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    permissions = serializers.ListField(child=serializers.CharField())


class MeMembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    seller_id = serializers.IntegerField()
    seller_name = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    ends_at = serializers.DateTimeField(allow_null=True)
    seller_permissions = serializers.ListField(child=serializers.CharField())
    stores = ObjectPermissionsSerializer(many=True, help_text="Store-level permissions per active store.")
    warehouses = ObjectPermissionsSerializer(many=True, help_text="Warehouse-level permissions, where any.")


class MeUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    display_name = serializers.CharField()
    preferred_language = serializers.CharField()


class MeSerializer(serializers.Serializer):
    user = MeUserSerializer()
    token_id = serializers.IntegerField(allow_null=True, help_text="The token this request used, if any.")
    memberships = MeMembershipSerializer(many=True)


_DATETIME = serializers.DateTimeField()  # formats `ends_at` exactly as MeMembershipSerializer did


def _foundation_permissions(membership) -> dict:
    """Before the roles app: seller permissions by the foundation rule, no stores yet."""
    return {
        "seller_permissions": [
            codename
            for codename in seller_permission_codenames()
            if member_has_seller_permission(membership, codename)
        ],
        "stores": [],
        "warehouses": [],
    }


def _effective_permissions(membership) -> dict:
    """The member's permissions on the seller, per active store (in the stores page's order) and per
    warehouse where they hold any. Ids only, never model instances: the owner of 500 stores and 2,000
    warehouses costs the same few queries as anyone, and no per-store check."""
    seller_id = membership.seller_id
    store_ids = (
        Store.objects.filter(seller_id=seller_id, is_active=True)
        .order_by("market", "name", "pk")
        .values_list("pk", flat=True)
    )
    warehouse_ids = (
        Warehouse.objects.filter(seller_id=seller_id, is_active=True, store__is_active=True)
        .order_by("store__name", "name", "pk")
        .values_list("pk", flat=True)
    )
    if membership.is_owner:  # the owner holds everything, whatever the assignments say
        everything = {level: sorted(catalog.codenames(level)) for level in catalog.LEVELS}
        return {
            "seller_permissions": everything[catalog.SELLER],
            "stores": [{"id": pk, "permissions": everything[catalog.STORE]} for pk in store_ids],
            "warehouses": [{"id": pk, "permissions": everything[catalog.WAREHOUSE]} for pk in warehouse_ids],
        }
    seller_permissions, per_store, per_warehouse = effective_permission_ids(membership)
    return {
        "seller_permissions": sorted(seller_permissions),
        "stores": [{"id": pk, "permissions": sorted(per_store.get(pk, ()))} for pk in store_ids],
        "warehouses": [
            {"id": pk, "permissions": sorted(per_warehouse[pk])}
            for pk in warehouse_ids
            if per_warehouse.get(pk)
        ],
    }


def _membership(membership) -> dict:
    permissions = _effective_permissions(membership) if ROLES else _foundation_permissions(membership)
    return {
        "id": membership.pk,
        "seller_id": membership.seller_id,
        "seller_name": membership.seller.name,
        "kind": str(membership.kind),
        "status": str(membership.status),
        "ends_at": None if membership.ends_at is None else _DATETIME.to_representation(membership.ends_at),
        **permissions,
    }


class MeView(ApiView):
    @extend_schema(
        operation_id="me",
        responses=MeSerializer,
        summary="Who am I",
        description="The calling user and the memberships they act in: with a token, its one membership; "
        "with a browser session, every membership that works now. Each with its effective permissions on "
        "the seller, per store and per warehouse. Any valid token or signed-in session may call it.",
    )
    def get(self, request):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if token is not None:
            memberships = [token.membership]
        else:
            memberships = list(
                Membership.objects.effective()
                .filter(user=request.user)
                .select_related("seller")
                .order_by("pk")
            )
        user = request.user
        body = {
            "user": {
                "id": user.pk,
                "email": str(user.email),
                "display_name": user.display_name,
                "preferred_language": user.preferred_language,
            },
            "token_id": token.pk if token else None,
            "memberships": [_membership(m) for m in memberships],
        }
        # Built in MeSerializer's shape directly (values already of the output types): the serializer's
        # per-field machinery cost more than the queries for a seller with many stores.
        return Response(body)


class MyDataView(ApiView):
    @extend_schema(
        operation_id="me_data",
        responses={(200, "application/json"): dict},
        summary="Everything OzonSeat holds about me",
        description="The caller's personal data as one JSON document (format `ozonseat-personal-data/1`): "
        "profile, memberships, assignments, sessions, tokens without secrets and every table that refers "
        "to them, and the audit events about them. Recorded as `user.data_exported`. Any valid token or "
        "signed-in session may call it; it always concerns the caller only.",
    )
    def get(self, request):
        from accounts import privacy
        from accounts.privacy_views import json_download

        token = request.auth if isinstance(request.auth, ApiToken) else None
        return json_download(privacy.export_json(actor=request.user, token=token), request.user)


class PingSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    seller_id = serializers.IntegerField(allow_null=True)


class PingView(ApiView):
    @extend_schema(
        operation_id="ping",
        responses=PingSerializer,
        summary="Check that the API answers and the credentials work",
        description="Answers `ok: true` with the token's seller (`seller_id`; null for a browser session). "
        "Any valid token or signed-in session may call it; without one it answers 401.",
    )
    def get(self, request):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        return Response({"ok": True, "seller_id": token.membership.seller_id if token else None})
