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
    from roles.selectors import effective_permissions, list_warehouses


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
    effective = effective_permissions(membership)
    if membership.is_owner:  # the owner holds everything, whatever the assignments say
        everything = {level: sorted(catalog.codenames(level)) for level in catalog.LEVELS}
        return {
            "seller_permissions": everything[catalog.SELLER],
            "stores": [
                {"id": store.pk, "permissions": everything[catalog.STORE]} for store, _p in effective.stores
            ],
            "warehouses": [
                {"id": warehouse.pk, "permissions": everything[catalog.WAREHOUSE]}
                for warehouse in list_warehouses(membership.seller)
            ],
        }
    return {
        "seller_permissions": sorted(effective.seller_permissions),
        "stores": [{"id": store.pk, "permissions": sorted(p)} for store, p in effective.stores],
        "warehouses": [
            {"id": warehouse.pk, "permissions": sorted(p)} for warehouse, p in effective.warehouses
        ],
    }


def _membership(membership) -> dict:
    permissions = _effective_permissions(membership) if ROLES else _foundation_permissions(membership)
    return {
        "id": membership.pk,
        "seller_id": membership.seller_id,
        "seller_name": membership.seller.name,
        "kind": membership.kind,
        "status": membership.status,
        "ends_at": membership.ends_at,
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
                "email": user.email,
                "display_name": user.display_name,
                "preferred_language": user.preferred_language,
            },
            "token_id": token.pk if token else None,
            "memberships": [_membership(m) for m in memberships],
        }
        return Response(MeSerializer(body).data)


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
