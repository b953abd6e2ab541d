"""Reads for people, sellers and memberships. Every read of seller data is scoped to one seller."""

from django.db.models import Case, CharField, DateTimeField, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, NullIf
from django.utils.functional import SimpleLazyObject

from ozonseat.errors import NotFound

from .models import ApiToken, Membership, MembershipKind, MembershipStatus, Seller


def _has_joined() -> Q:
    """Membership.has_joined, as a condition on memberships."""
    return ~Q(kind=MembershipKind.MEMBER) | (
        Q(activated_at__isnull=False) & ~Q(status=MembershipStatus.INVITED)
    )


def member_name():
    """Membership.display_name as an SQL expression over memberships: what searching and sorting members
    by name use, so that neither reveals a name this seller may not see."""
    return Coalesce(
        Case(
            When(_has_joined(), then=NullIf("user__display_name", Value(""))),
            default=NullIf("invited_name", Value("")),
        ),
        "user__email",
        output_field=CharField(),
    )


def member_last_sign_in():
    """The member's last sign-in, as this seller may see it: none before they have joined (until then
    it tells of their work elsewhere). A subquery, not a join: a list's COUNT then reads memberships only."""
    from .models import User

    last_login = Subquery(User.objects.filter(pk=OuterRef("user_id")).values("last_login")[:1])
    return Case(When(_has_joined(), then=last_login), default=None, output_field=DateTimeField())


def member_names(seller_ids, *, membership_ids=(), user_ids=()) -> tuple[dict[int, str], dict[int, str]]:
    """People's names as their seller sees them (Membership.display_name), in one query: by membership
    id, and by (seller id, user id) for those named as users (an event's actor). Someone who is not a
    member of the seller has no name there."""
    rows = (
        Membership.objects.filter(seller_id__in=set(seller_ids))
        .filter(Q(pk__in=set(membership_ids)) | Q(user_id__in=set(user_ids)))
        .annotate(name=member_name())
        .values_list("pk", "seller_id", "user_id", "name")
    )
    by_membership, by_user = {}, {}
    for pk, seller_id, user_id, name in rows:
        by_membership[pk] = name
        by_user[(seller_id, user_id)] = name
    return by_membership, by_user


def member_id_in_seller(*, seller: str, user: str):
    """The id of the membership, in the seller at `seller`, of the user at `user` (field paths from the
    row): how seller-facing output names a person. A user's own id is global, so it would tell one seller
    whether the person had an account before, and line up what other sellers see."""
    return Subquery(Membership.objects.filter(seller=OuterRef(seller), user=OuterRef(user)).values("pk")[:1])


def member_id_of(seller_id, user_id) -> int | None:
    """member_id_in_seller for one row that was read without it."""
    if user_id is None:
        return None
    return (
        Membership.objects.filter(seller_id=seller_id, user_id=user_id).values_list("pk", flat=True).first()
    )


def with_member_fields(queryset: QuerySet) -> QuerySet:
    """Memberships with what pages and responses show of them, as this seller may see it, in one query."""
    return queryset.select_related("user", "invited_by").annotate(
        # member_name() as the database keeps it (Membership.sort_name): no join with the user, so a list's
        # COUNT reads memberships only.
        member_name=F("sort_name"),
        member_last_sign_in=member_last_sign_in(),
        invited_by_member_id=member_id_in_seller(seller="seller", user="invited_by"),
    )


def get_membership_for_seller(seller: Seller, membership_id) -> Membership:
    """The same NotFound for "does not exist" and "belongs to another seller"."""
    try:
        membership_id = int(membership_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    membership = (
        with_member_fields(Membership.objects.select_related("seller"))
        .filter(seller=seller, pk=membership_id)
        .first()
    )
    if membership is None:
        raise NotFound()
    return membership


def list_members(
    seller: Seller, *, status: str = "", search: str = "", include_removed: bool = False
) -> QuerySet:
    queryset = with_member_fields(Membership.objects.filter(seller=seller))
    if status:
        queryset = queryset.filter(status=status)
    elif not include_removed:
        queryset = queryset.exclude(status=MembershipStatus.REMOVED)
    if search:
        search = search.strip()[:100]
        queryset = queryset.filter(member_search(search))
    # sort_name is member_name stored (migration 0010): the same order, read from an index.
    return queryset.order_by("kind", "sort_name", "pk")


SEARCH_SEPARATOR = "\x1f"


def member_search(search: str) -> Q:
    """Members whose e-mail, name as this seller sees it (member_name()) or job title contains `search`,
    ignoring case. One column of the membership, search_text (those three joined by chr(31), kept by
    the database): a text without that character is in one of them exactly when it is in the joined
    text. A search containing it (which no field can match) is asked of the three columns apart."""
    if SEARCH_SEPARATOR in search:
        return (
            Q(user__email__icontains=search)
            | Q(member_name__icontains=search)
            | Q(job_title__icontains=search)
        )
    return Q(search_text__icontains=search)


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


def seller_by_id(seller_id) -> Seller | None:
    return Seller.objects.filter(pk=seller_id).first()


def owner_addresses(seller) -> list[str]:
    """The e-mail addresses of the seller's owner (one, or none before anyone owns it)."""
    owners = Membership.objects.filter(seller=seller, kind=MembershipKind.OWNER).select_related("user")
    return [membership.user.email for membership in owners if membership.user_id and membership.user.email]


# --- the audit log's person filter (people by user id, removed ones too: their events stay findable) ---

PEOPLE_OPTIONS_LIMIT = 20


def is_person_of_seller(seller, user_id) -> bool:
    """Whether the user id is one of the seller's people, removed members too (their events stay
    findable): the people the person filter accepts, as people_options offers them. One query."""
    return Membership.objects.filter(seller=seller, user_id=user_id).exists()


def people_options(seller, search: str = "", *, within=None):
    """([(user id, name)], more): the seller's people (removed ones too: their events stay findable) whose
    name, as this seller sees it, or e-mail matches — the audit log's person filter. One query. `within`:
    membership ids (or a subquery of them) the reader may see, None for everyone."""
    # The name as the database keeps it (sort_name, migration 0010): sorting needs no join with the user.
    queryset = Membership.objects.filter(seller=seller).annotate(name=F("sort_name"))
    if within is not None:
        queryset = queryset.filter(pk__in=within)
    search = search.strip()[:100]
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(user__email__icontains=search))
        if SEARCH_SEPARATOR not in search:  # the same people, narrowed on the membership before the join
            queryset = queryset.filter(search_text__icontains=search)
    rows = queryset.order_by("name", "pk").values_list("user_id", "name")[: PEOPLE_OPTIONS_LIMIT + 1]
    rows = list(rows)
    return rows[:PEOPLE_OPTIONS_LIMIT], len(rows) > PEOPLE_OPTIONS_LIMIT


def people_labels(seller, user_ids) -> list[tuple[int, str]]:
    """(user id, name) of the chosen people of the seller, for the audit log's person filter."""
    return list(
        Membership.objects.filter(seller=seller, user_id__in=list(user_ids)[:500])
        .annotate(name=member_name())
        .order_by("name", "pk")
        .values_list("user_id", "name")
    )
