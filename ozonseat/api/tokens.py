"""API tokens and service accounts. A token's secret appears once, in the response that creates it."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts import api_tokens, selectors
from accounts.api_tokens import MANAGE_TOKENS
from accounts.authorization import member_has_seller_permission
from accounts.models import ApiToken, Membership, MembershipKind
from ozonseat.errors import NotFound

from .members import MemberSerializer
from .schema import ANY_MEMBER, needs
from .serializers import StrictSerializer
from .views import SellerView


class TokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The first characters of the secret, to recognise the token.")
    membership_id = serializers.IntegerField()
    created_by_member_id = serializers.SerializerMethodField(
        help_text="The member (id) who created the token: its holder, or for a service account's token, the "
        "member who made it."
    )
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True, help_text="Updated at most once a minute.")
    revoked_at = serializers.DateTimeField(allow_null=True)

    def get_created_by_member_id(self, token) -> int | None:
        if hasattr(token, "created_by_member_id"):  # annotated for a whole list
            return token.created_by_member_id
        return selectors.member_id_of(token.membership.seller_id, token.created_by_id)


class CreatedTokenSerializer(TokenSerializer):
    secret = serializers.CharField(help_text="The token. Shown only in this response: store it now.")


class TokenCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    membership_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A service account of the seller (needs tokens.manage). Left out: your own membership.",
    )


class ServiceAccountCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=150)
    description = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


def _may_manage(view) -> bool:
    return member_has_seller_permission(view.membership, MANAGE_TOKENS)


def _visible_tokens(view):
    queryset = (
        ApiToken.objects.filter(membership__seller=view.seller)
        .select_related("membership")
        .annotate(
            created_by_member_id=selectors.member_id_in_seller(seller="membership__seller", user="created_by")
        )
    )
    if not _may_manage(view):
        queryset = queryset.filter(membership=view.membership)
    return queryset


class TokenListView(SellerView):
    @extend_schema(
        operation_id="tokens_list",
        responses=TokenSerializer(many=True),
        summary="List API tokens",
        description=f"With `{MANAGE_TOKENS}`: every token of the seller; otherwise your own. A token's "
        f"secret is never shown again after its creation, only its `prefix`. {ANY_MEMBER}",
    )
    def get(self, request, seller_id):
        tokens = _visible_tokens(self).order_by("-created_at", "-pk")
        return Response(TokenSerializer(tokens, many=True).data)

    @extend_schema(
        operation_id="tokens_create",
        request=TokenCreateSerializer,
        responses={201: CreatedTokenSerializer},
        summary="Create an API token",
        description="A token for yourself, or for one of the seller's service accounts (`membership_id`, "
        f"needs `{MANAGE_TOKENS}`). The response holds the `secret`: the only time it is shown. "
        f"{ANY_MEMBER}",
    )
    def post(self, request, seller_id):
        data = TokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership_id = data.validated_data.pop("membership_id")
        membership = (
            selectors.get_membership_for_seller(self.seller, membership_id)
            if membership_id is not None
            else self.membership
        )
        created = api_tokens.create_api_token(actor=self.actor, membership=membership, **data.validated_data)
        body = TokenSerializer(created.token).data
        body["secret"] = created.secret
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class TokenDetailView(SellerView):
    def get_token(self, token_id) -> ApiToken:
        token = _visible_tokens(self).select_related("membership__seller").filter(pk=token_id).first()
        if token is None:
            raise NotFound()
        return token

    @extend_schema(
        operation_id="tokens_read",
        responses=TokenSerializer,
        summary="Read an API token",
        description=f"One of your own tokens, or with `{MANAGE_TOKENS}` any token of the seller (others "
        f"answer 404). {ANY_MEMBER}",
    )
    def get(self, request, seller_id, token_id):
        return Response(TokenSerializer(self.get_token(token_id)).data)

    @extend_schema(
        operation_id="tokens_revoke",
        responses={204: None},
        summary="Revoke an API token",
        description="The token stops working on the next request. Your own tokens, or with "
        f"`{MANAGE_TOKENS}` any token of the seller (others answer 404). {ANY_MEMBER}",
    )
    def delete(self, request, seller_id, token_id):
        api_tokens.revoke_api_token(actor=self.actor, token=self.get_token(token_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ServiceAccountListView(SellerView):
    permission = MANAGE_TOKENS

    @extend_schema(
        operation_id="service_accounts_list",
        responses=MemberSerializer(many=True),
        summary="List service accounts",
        description="The seller's service accounts: members that are programs and use API tokens. "
        f"{needs(MANAGE_TOKENS)}",
    )
    def get(self, request, seller_id):
        accounts = selectors.with_member_fields(
            Membership.objects.filter(seller=self.seller, kind=MembershipKind.SERVICE)
        ).order_by("pk")
        return Response(MemberSerializer(accounts, many=True).data)

    @extend_schema(
        operation_id="service_accounts_create",
        request=ServiceAccountCreateSerializer,
        responses={201: MemberSerializer},
        summary="Create a service account",
        description="A member that is a program: it has no password, signs in only with API tokens, and gets "
        f"roles like any member. Suspend or remove it with the member calls. {needs(MANAGE_TOKENS)}",
    )
    def post(self, request, seller_id):
        data = ServiceAccountCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = api_tokens.create_service_account(
            actor=self.actor, seller=self.seller, **data.validated_data
        )
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)
