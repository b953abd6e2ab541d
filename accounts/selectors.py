"""Reads for people, sellers and memberships. Every read of seller data is scoped to one seller."""

from django.db.models import Q, QuerySet
from django.utils.functional import SimpleLazyObject

from ozonseat.errors import NotFound

from .models import ApiToken, Membership, MembershipStatus, Seller


def get_membership_for_seller(seller: Seller, membership_id) -> Membership:
    """The same NotFound for "does not exist" and "belongs to another seller"."""
    try:
        membership_id = int(membership_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    membership = (
        Membership.objects.select_related("user", "seller", "invited_by")
        .filter(seller=seller, pk=membership_id)
        .first()
    )
    if membership is None:
        raise NotFound()
    return membership


def list_members(
    seller: Seller, *, status: str = "", search: str = "", include_removed: bool = False
) -> QuerySet:
    queryset = Membership.objects.filter(seller=seller).select_related("user", "invited_by")
    if status:
        queryset = queryset.filter(status=status)
    elif not include_removed:
        queryset = queryset.exclude(status=MembershipStatus.REMOVED)
    if search:
        search = search.strip()[:100]
        queryset = queryset.filter(
            Q(user__email__icontains=search)
            | Q(user__display_name__icontains=search)
            | Q(job_title__icontains=search)
        )
    return queryset.order_by("kind", "user__display_name", "user__email", "pk")


def sellers_for_user(user):
    """The sellers the user currently works for (lazily evaluated, for the header switcher)."""
    return SimpleLazyObject(
        lambda: list(
            Seller.objects.filter(
                pk__in=Membership.objects.effective().filter(user=user).values("seller_id")
            ).order_by("name", "pk")
        )
    )


def current_seller_for_user(user) -> Seller | None:
    """The seller the user last switched to, if they still work there, else their first one."""
    memberships = Membership.objects.effective().filter(user=user).select_related("seller")
    if user.last_seller_id:
        membership = memberships.filter(seller_id=user.last_seller_id).first()
        if membership is not None:
            return membership.seller
    membership = memberships.order_by("seller__name", "seller_id").first()
    return membership.seller if membership else None


def pending_invitation(membership: Membership):
    return (
        membership.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .order_by("-created_at")
        .first()
    )


def member_api_tokens(membership: Membership) -> list[ApiToken]:
    """A member's API tokens, newest first: expired and revoked ones too, marked (`status`), revoked ones
    with their reason — a removed member's page shows their tokens revoked because they left."""
    return list(ApiToken.objects.filter(membership=membership).order_by("-created_at", "-pk"))
