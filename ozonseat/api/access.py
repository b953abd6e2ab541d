"""Changing where an assignment applies, and the access matrix (who may do what, where, and why).
Every write calls the same roles service as the dashboard."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from roles import catalog, matrix
from roles import selectors as roles_selectors
from roles import services as roles_services
from roles import visibility as roles_visibility
from roles.models import Market, ScopeKind

from .schema import needs
from .scopes import AssignmentSerializer, _assignments
from .serializers import StrictSerializer
from .views import SellerView


class ScopeChangeSerializer(StrictSerializer):
    scope_kind = serializers.ChoiceField(choices=ScopeKind.choices)
    market = serializers.ChoiceField(choices=Market.choices, required=False, allow_null=True, default=None)
    store_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=500, default=list
    )
    warehouse_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=500, default=list
    )
    dry_run = serializers.BooleanField(
        default=False, help_text="Only say what would be gained and lost; change nothing."
    )


class PlacePermissionsSerializer(serializers.Serializer):
    place = serializers.CharField()
    permissions = serializers.ListField(child=serializers.CharField())


class ScopeChangeResultSerializer(serializers.Serializer):
    changed = serializers.BooleanField()
    assignment = AssignmentSerializer()
    gained = PlacePermissionsSerializer(many=True)
    lost = PlacePermissionsSerializer(many=True)


def _places(rows):
    return [{"place": place, "permissions": [p.codename for p in permissions]} for place, permissions in rows]


class AssignmentScopeView(SellerView):
    permissions = {"POST": catalog.MEMBERS_MANAGE}

    @extend_schema(
        operation_id="assignments_change_scope",
        request=ScopeChangeSerializer,
        responses=ScopeChangeResultSerializer,
        summary="Change where an assignment applies",
        description="Move an assignment to another scope (the whole seller, one market, chosen stores or "
        "chosen warehouses) as one audited change. The answer lists, per place, the permissions the member "
        "gains and loses (those another of their roles still gives are neither). `dry_run` only answers "
        "that. You must be allowed to act on the member and hold the role's permissions over the whole new "
        f"scope. {needs(catalog.MEMBERS_MANAGE)}",
    )
    def post(self, request, seller_id, assignment_id):
        assignment = roles_visibility.get_visible_assignment_for_seller(
            self.seller, self.membership, assignment_id
        )
        serializer = ScopeChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        scope = {
            "scope_kind": data["scope_kind"],
            "market": data["market"],
            "stores": [
                roles_selectors.get_store_for_seller(self.seller, pk)
                for pk in dict.fromkeys(data["store_ids"])
            ],
            "warehouses": [
                roles_selectors.get_warehouse_for_seller(self.seller, pk)
                for pk in dict.fromkeys(data["warehouse_ids"])
            ],
        }
        change = matrix.scope_change(assignment, **scope)
        if not data["dry_run"]:
            roles_services.change_assignment_scope(actor=self.actor, assignment=assignment, **scope)
        return Response(
            {
                "changed": not data["dry_run"],
                "assignment": AssignmentSerializer(_assignments(self.seller).get(pk=assignment.pk)).data,
                "gained": _places(change.gained),
                "lost": _places(change.lost),
            }
        )
