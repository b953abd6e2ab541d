"""Members of a seller: list, invite, read, edit, suspend, reactivate, remove, resend or revoke an
invitation.
Every write calls the same service as the dashboard."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from accounts import selectors, services
from accounts.authorization import MANAGE_MEMBERS
from accounts.models import Language, Membership, MembershipKind, MembershipStatus
from roles.models import ScopeKind

from . import idempotency
from .roles_support import ROLES
from .schema import ANY_MEMBER, needs
from .serializers import SellerObjectIdField, StrictSerializer
from .views import SellerView


class MemberPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class MemberPersonSerializer(serializers.Serializer):
    # The person as this seller sees them: no global user id, and until they join, the name the seller
    # typed (Membership.display_name), never the one they or another seller chose.
    email = serializers.EmailField(source="user.email")
    display_name = serializers.CharField(
        help_text="The name the seller gave when inviting, until the person accepts; then their own."
    )


class MemberAssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role_id = serializers.IntegerField()
    role_name = serializers.CharField(source="role.display_name")
    scope_kind = serializers.CharField()
    market = serializers.CharField()
    store_ids = serializers.SerializerMethodField()
    warehouse_ids = serializers.SerializerMethodField()

    def get_store_ids(self, assignment) -> list[int]:
        return sorted(store.pk for store in assignment.stores.all())

    def get_warehouse_ids(self, assignment) -> list[int]:
        return sorted(warehouse.pk for warehouse in assignment.warehouses.all())


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = MemberPersonSerializer(source="*")
    kind = serializers.CharField()
    status = serializers.CharField()
    job_title = serializers.CharField()
    ends_at = serializers.DateTimeField(allow_null=True)
    invited_by_member_id = serializers.SerializerMethodField(
        help_text="The member (id) who invited this one, if they are or were a member of the seller."
    )
    created_at = serializers.DateTimeField()
    activated_at = serializers.DateTimeField(allow_null=True)
    suspended_at = serializers.DateTimeField(allow_null=True)
    removed_at = serializers.DateTimeField(allow_null=True)
    assignments = serializers.SerializerMethodField()

    def get_invited_by_member_id(self, membership) -> int | None:
        if hasattr(membership, "invited_by_member_id"):  # annotated by the selectors, for a whole page
            return membership.invited_by_member_id
        return selectors.member_id_of(membership.seller_id, membership.invited_by_id)

    @extend_schema_field(MemberAssignmentSerializer(many=True))
    def get_assignments(self, membership):
        # Loaded for the whole page at once by list_members_with_assignments; a single member loads its own.
        if not ROLES:
            return []
        assignments = membership.assignments.all()
        if "assignments" not in getattr(membership, "_prefetched_objects_cache", {}):
            assignments = assignments.select_related("role").prefetch_related("stores", "warehouses")
        return MemberAssignmentSerializer(assignments, many=True).data


class InviteAssignmentSerializer(StrictSerializer):
    role_id = serializers.IntegerField(min_value=1)
    scope_kind = serializers.ChoiceField(choices=ScopeKind.choices)
    market = serializers.CharField(max_length=2, required=False, allow_null=True, default=None)
    store_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=500, default=list
    )
    warehouse_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=500, default=list
    )


class InviteSerializer(StrictSerializer):
    email = serializers.CharField(max_length=254)
    display_name = serializers.CharField(max_length=150)
    language = serializers.ChoiceField(choices=Language.choices, required=False, allow_blank=True, default="")
    job_title = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    ends_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    assignments = InviteAssignmentSerializer(
        many=True,
        required=False,
        default=list,
        help_text="Roles given with the invitation, in the same transaction (a refused one invites nobody). "
        "A lead holding members.manage for a market or chosen stores must give at least one, within it.",
    )


class MemberUpdateSerializer(StrictSerializer):
    job_title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)


if ROLES:
    from roles import selectors as roles_selectors
    from roles import visibility as roles_visibility
    from roles.invitations import invite_member_with_roles
    from roles.models import Assignment


def _role_of_seller(seller, role_id):
    return ROLES and roles_selectors.get_role_for_seller(seller, role_id)


def _store_of_seller(seller, store_id):
    # Deactivated stores too: their assignments stay, and so does the store filter of the audit log.
    return ROLES and roles_selectors.get_store_for_seller(seller, store_id, include_inactive=True)


class MemberFilterSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=MembershipStatus.choices, required=False)
    search = serializers.CharField(required=False, max_length=100, allow_blank=True)
    role = SellerObjectIdField(
        _role_of_seller,
        required=False,
        help_text="Members holding this role (id). Another seller's role or an unknown id answers 400.",
    )
    store = SellerObjectIdField(
        _store_of_seller,
        required=False,
        help_text="Members with a role reaching this store (id), and the owner. Any of the seller's stores, "
        "deactivated ones too; another seller's store or an unknown id answers 400.",
    )
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)


def _members_reaching_store(seller, store):
    """Membership ids whose assignments reach the store (whole seller, its market, it, or one of its
    warehouses), plus the owner's."""
    reaching = Assignment.objects.filter(membership__seller=seller).filter(
        Q(scope_kind=ScopeKind.SELLER)
        | Q(scope_kind=ScopeKind.MARKET, market=store.market)
        | Q(scope_kind=ScopeKind.STORES, stores=store)
        | Q(scope_kind=ScopeKind.WAREHOUSES, warehouses__store=store)
    )
    return Membership.objects.filter(
        Q(pk__in=reaching.values("membership_id")) | Q(kind=MembershipKind.OWNER), seller=seller
    ).values("pk")


def get_member(view, membership_id):
    """A member the caller may see (members.view over them, or themselves): else the same 404 as "not
    yours" — a picker's token cannot read the owner or a colleague's address."""
    if ROLES:
        return roles_visibility.get_visible_member_for_seller(view.seller, view.membership, membership_id)
    return selectors.get_membership_for_seller(view.seller, membership_id)


class MemberListView(SellerView):
    permissions = {"POST": MANAGE_MEMBERS}
    pagination_class = MemberPagination

    @extend_schema(
        operation_id="members_list",
        parameters=[MemberFilterSerializer],
        responses=MemberSerializer(many=True),
        summary="List the seller's members",
        description="The seller's members, with their role assignments, in pages of `page_size` (default "
        "50). Removed members are left out unless `status=removed` is asked for; `search` matches the "
        "e-mail, name or job title; `role` and `store` narrow the list. Only the members you may see: "
        "with `members.view` (or `members.manage`) at a market or chosen stores, those whose whole access "
        f"lies there; without it, only yourself. {ANY_MEMBER}",
    )
    def get(self, request, seller_id):
        filters = MemberFilterSerializer(data=request.query_params.dict(), context={"seller": self.seller})
        filters.is_valid(raise_exception=True)
        list_members = roles_selectors.list_members_with_assignments if ROLES else selectors.list_members
        queryset = list_members(
            self.seller,
            status=filters.validated_data.get("status", ""),
            search=filters.validated_data.get("search", ""),
        )
        if ROLES:  # who sees whom: members.view where held; without it, only oneself
            queryset = roles_visibility.visible_members(self.seller, self.membership, queryset)
        wanted = filters.validated_data  # `role` and `store` name the seller's own (none before roles)
        if "role" in wanted:
            holders = Assignment.objects.filter(role_id=wanted["role"], membership__seller=self.seller)
            queryset = queryset.filter(pk__in=holders.values("membership_id"))
        if "store" in wanted:
            store = _store_of_seller(self.seller, wanted["store"])
            queryset = queryset.filter(pk__in=_members_reaching_store(self.seller, store))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(MemberSerializer(page, many=True).data)

    @extend_schema(
        operation_id="members_invite",
        request=InviteSerializer,
        responses={201: MemberSerializer},
        parameters=[
            OpenApiParameter(
                idempotency.HEADER,
                str,
                OpenApiParameter.HEADER,
                description="Retrying with the same key returns the first result instead of inviting twice "
                "(kept 24 hours). The same key with a different body answers 422.",
            )
        ],
        summary="Invite a person",
        description="E-mail a person a single-use, expiring link to join the seller as a member (someone "
        "who already has an OzonSeat account accepts while signed in). Give an `Idempotency-Key` to retry "
        f"safely. {needs(MANAGE_MEMBERS)}",
    )
    def post(self, request, seller_id):
        def invite():
            data = InviteSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            fields = dict(data.validated_data)
            assignments = fields.pop("assignments", [])
            if ROLES:
                membership = invite_member_with_roles(
                    actor=self.actor,
                    seller=self.seller,
                    grants=[
                        {
                            "role_id": each["role_id"],
                            "scope_kind": each["scope_kind"],
                            "market": each.get("market"),
                            "stores": each.get("store_ids") or [],
                            "warehouses": each.get("warehouse_ids") or [],
                        }
                        for each in assignments
                    ],
                    **fields,
                )
            else:
                membership = services.invite_member(actor=self.actor, seller=self.seller, **fields)
            return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)

        return idempotency.run_idempotent(request, membership=self.membership, scope="invite", handler=invite)


class MemberDetailView(SellerView):
    permissions = {"PATCH": MANAGE_MEMBERS}

    @extend_schema(
        operation_id="members_read",
        responses=MemberSerializer,
        summary="Read a member",
        description="One member of the seller, with their role assignments: yourself, or a member you may "
        f"see (`members.view` over them); any other answers 404. {ANY_MEMBER}",
    )
    def get(self, request, seller_id, membership_id):
        return Response(MemberSerializer(get_member(self, membership_id)).data)

    @extend_schema(
        operation_id="members_update",
        request=MemberUpdateSerializer,
        responses=MemberSerializer,
        summary="Edit a member's job title or end date",
        description="Fields left out keep their value; `ends_at: null` removes the end date. The owner, "
        "your own membership and members holding a permission you do not hold cannot be edited. "
        f"{needs(MANAGE_MEMBERS)}",
    )
    def patch(self, request, seller_id, membership_id):
        membership = get_member(self, membership_id)
        data = MemberUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.update_member(
            actor=self.actor,
            membership=membership,
            job_title=data.validated_data.get("job_title", membership.job_title),
            ends_at=data.validated_data.get("ends_at", membership.ends_at),
        )
        return Response(MemberSerializer(membership).data)


class EmptySerializer(StrictSerializer):
    pass


def _action_view(name, service, summary, description):
    class MemberActionView(SellerView):
        permission = MANAGE_MEMBERS

        @extend_schema(
            operation_id=f"members_{name.replace('-', '_')}",
            request=None,
            responses=MemberSerializer,
            summary=summary,
            description=f"{description} {needs(MANAGE_MEMBERS)}",
        )
        def post(self, request, seller_id, membership_id):
            membership = get_member(self, membership_id)
            if request.data:
                EmptySerializer(data=request.data).is_valid(raise_exception=True)
            result = service(actor=self.actor, membership=membership)
            if not hasattr(result, "status"):  # resend returns the new invitation
                result = get_member(self, membership_id)
            return Response(MemberSerializer(result).data)

    MemberActionView.__name__ = MemberActionView.__qualname__ = (
        "Member" + name.title().replace("-", "") + "View"
    )
    return MemberActionView


MemberSuspendView = _action_view(
    "suspend",
    services.suspend_member,
    _("Suspend a member"),
    "Only an active member can be suspended. Their access and sessions end at once; their tokens stop "
    "working until they are reactivated. Not the owner, nor yourself, nor a member holding a permission you "
    "do not hold at the same or a wider scope.",
)
MemberReactivateView = _action_view(
    "reactivate",
    services.reactivate_member,
    _("Reactivate a suspended member"),
    "The member works again with the roles they had, unless their end date has passed (change it first). "
    "Not the owner, nor yourself, nor a member holding a permission you do not hold at the same or a wider "
    "scope.",
)
MemberRemoveView = _action_view(
    "remove",
    services.remove_member,
    _("Remove a member"),
    "Their sessions and any pending invitation end, their tokens are revoked (reason `member_removed`) and "
    "their role assignments end; invited again, they start with only what the new invitation gives. Their "
    "OzonSeat user stays (they may work for other sellers). Not the owner, nor yourself, nor a member "
    "holding a permission you do not hold at the same or a wider scope.",
)
MemberResendView = _action_view(
    "resend-invitation",
    services.resend_invitation,
    _("Resend the invitation"),
    "E-mail a new link to a member whose invitation is pending; older links stop working. Not for a member "
    "holding a permission you do not hold at the same or a wider scope.",
)
MemberRevokeView = _action_view(
    "revoke-invitation",
    services.revoke_invitation,
    _("Revoke a pending invitation"),
    "The link stops working, and the invited member is removed with the roles given with the invitation. "
    "Not for a member holding a permission you do not hold at the same or a wider scope.",
)
