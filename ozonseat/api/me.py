"""The caller: their user, the memberships they act in, and what they may do there."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.authorization import member_has_seller_permission
from accounts.models import ApiToken, Membership

from .permissions import seller_permission_codenames
from .views import ApiView


class MeMembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    seller_id = serializers.IntegerField()
    seller_name = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    ends_at = serializers.DateTimeField(allow_null=True)
    seller_permissions = serializers.ListField(child=serializers.CharField())


class MeUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    display_name = serializers.CharField()
    preferred_language = serializers.CharField()


class MeSerializer(serializers.Serializer):
    user = MeUserSerializer()
    token_id = serializers.IntegerField(allow_null=True, help_text="The token this request used, if any.")
    memberships = MeMembershipSerializer(many=True)


class MeView(ApiView):
    @extend_schema(
        operation_id="me",
        responses=MeSerializer,
        summary="Who am I",
        description="With a token: its one membership. With a session: every membership that works now.",
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
        codenames = seller_permission_codenames()
        user = request.user
        return Response(
            MeSerializer(
                {
                    "user": {
                        "id": user.pk,
                        "email": user.email,
                        "display_name": user.display_name,
                        "preferred_language": user.preferred_language,
                    },
                    "token_id": token.pk if token else None,
                    "memberships": [
                        {
                            "id": m.pk,
                            "seller_id": m.seller_id,
                            "seller_name": m.seller.name,
                            "kind": m.kind,
                            "status": m.status,
                            "ends_at": m.ends_at,
                            "seller_permissions": [
                                c for c in codenames if member_has_seller_permission(m, c)
                            ],
                        }
                        for m in memberships
                    ],
                }
            ).data
        )


class PingSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    seller_id = serializers.IntegerField(allow_null=True)


class PingView(ApiView):
    @extend_schema(
        operation_id="ping",
        responses=PingSerializer,
        summary="Check that the API answers and the credentials work",
    )
    def get(self, request):
        token = request.auth if isinstance(request.auth, ApiToken) else None
        return Response({"ok": True, "seller_id": token.membership.seller_id if token else None})
