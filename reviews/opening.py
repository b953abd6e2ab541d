"""Opening access reviews: on schedule (the beat) or by the owner, one item per member with a snapshot
of their access and a recommendation, each asked of the reviewers whose reach covers it."""

from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.authorization import require_owner
from accounts.models import ApiToken, Membership, MembershipKind, MembershipStatus, Seller
from audit import events
from audit.services import record_event
from ozonseat.errors import Conflict, InvalidInput
from roles import authority
from roles.models import Market, ScopeKind, Store

from . import emails, reach, schedule
from .locks import share_members_and_users
from .models import AccessReview, ItemReviewer, ReviewItem, ReviewStatus, ReviewTrigger
from .recommendations import recommend

# Members are read and items written in batches of this size: a fixed number of queries per batch.
BATCH_SIZE = 500


def batched(values, size):
    """itertools.batched, which Python 3.11 lacks."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def start_review(*, actor, seller, member_ids=(), store_ids=(), markets=(), now=None) -> AccessReview:
    """The owner starts a review now: of everyone, or of the chosen members and of the members whose
    access reaches the chosen stores or markets."""
    require_owner(actor=actor, seller=seller)
    now = now or timezone.now()
    member_ids = sorted({int(pk) for pk in member_ids})
    store_ids = sorted({int(pk) for pk in store_ids})
    markets = sorted(set(markets))
    found = set(
        Membership.objects.filter(seller=seller, pk__in=member_ids)
        .exclude(status=MembershipStatus.REMOVED)
        .values_list("pk", flat=True)
    )
    if len(found) != len(member_ids):
        raise InvalidInput(field="members", message=_("Choose members of this seller."))
    if Store.objects.filter(seller=seller, pk__in=store_ids).count() != len(store_ids):
        raise InvalidInput(field="stores", message=_("Choose stores of this seller."))
    if any(market not in Market.values for market in markets):
        raise InvalidInput(field="markets", message=_("Choose a market."))
    selection = {
        key: value
        for key, value in (("members", member_ids), ("stores", store_ids), ("markets", markets))
        if value
    }
    review = _open_review(
        seller, trigger=ReviewTrigger.MANUAL, started_by=actor, selection=selection, now=now
    )
    return review


def open_due_reviews(*, now=None) -> list[int]:
    """The beat's job: open a review of everyone for each seller whose interval has passed since its last
    review of everyone started (or since it was created). Idempotent: a second beat, or the same tick
    repeated, finds the review open (one open review per seller is a database constraint)."""
    now = now or timezone.now()
    candidates = (
        Seller.objects.exclude(access_reviews__status=ReviewStatus.OPEN)
        .annotate(last_full=Max("access_reviews__opened_at", filter=Q(access_reviews__covers_everyone=True)))
        .values_list("pk", "created_at", "last_full", "access_review_interval_days")
    )
    opened = []
    for seller_id, created_at, last_full, interval in candidates:
        if not schedule.review_is_due(
            last_started_at=last_full or created_at, interval_days=interval, now=now
        ):
            continue
        try:
            review = _open_review(
                Seller(pk=seller_id), trigger=ReviewTrigger.SCHEDULED, started_by=None, selection={}, now=now
            )
        except (Conflict, IntegrityError):
            continue  # opened meanwhile by another beat or the owner
        if review is not None:
            opened.append(review.pk)
    return opened


def _open_review(seller, *, trigger, started_by, selection, now) -> AccessReview | None:
    with transaction.atomic():
        share_members_and_users(seller.pk)  # items and reviewer links point at them (see the docstring)
        # The seller's row lock serialises openers: two beats, or a beat and the owner.
        seller = Seller.objects.select_for_update().get(pk=seller.pk)
        if AccessReview.objects.filter(seller=seller, status=ReviewStatus.OPEN).exists():
            raise Conflict(_("An access review is already open."), code="review_open")
        if trigger == ReviewTrigger.SCHEDULED:
            last = (
                AccessReview.objects.filter(seller=seller, covers_everyone=True).aggregate(
                    last=Max("opened_at")
                )["last"]
                or seller.created_at
            )
            if not schedule.review_is_due(
                last_started_at=last, interval_days=seller.access_review_interval_days, now=now
            ):
                return None
        plan = schedule.plan(now, seller.time_zone, seller.access_review_length_days)
        review = AccessReview.objects.create(
            seller=seller,
            trigger=trigger,
            covers_everyone=not selection,
            selection=selection,
            started_by=started_by,
            opened_at=now,
            time_zone=seller.time_zone,
            opened_on=plan.opened_on,
            halfway_on=plan.halfway_on,
            due_on=plan.due_on,
            due_at=plan.due_at,
            due_policy=seller.access_review_due_policy,
        )
        review.item_count = _add_items(review, seller, selection, now)
        review.save(update_fields=["item_count"])
        record_event(
            action=events.REVIEW_OPENED,
            seller=seller,
            actor=started_by,
            target=review,
            changes={
                "trigger": [None, trigger],
                "selection": [None, selection],
                "item_count": [None, review.item_count],
                "due_on": [None, review.due_on.isoformat()],
                "due_policy": [None, review.due_policy],
            },
        )
        transaction.on_commit(partial(emails.publish_plan, review.pk))
    return review


def _selected_members(seller, selection):
    members = Membership.objects.filter(seller=seller).exclude(status=MembershipStatus.REMOVED)
    if not selection:
        return members
    wanted = Q(pk__in=selection.get("members", []))
    stores = selection.get("stores", [])
    markets = set(selection.get("markets", []))
    if stores:
        markets_of_stores = set(Store.objects.filter(pk__in=stores).values_list("market", flat=True))
        wanted |= (
            Q(assignments__stores__in=stores)
            | Q(assignments__warehouses__store__in=stores)
            | Q(assignments__scope_kind=ScopeKind.MARKET, assignments__market__in=markets_of_stores)
        )
    if markets:
        wanted |= (
            Q(assignments__scope_kind=ScopeKind.MARKET, assignments__market__in=markets)
            | Q(assignments__stores__market__in=markets)
            | Q(assignments__warehouses__store__market__in=markets)
        )
    if stores or markets:  # a role for the whole seller reaches every store and market
        wanted |= Q(assignments__scope_kind=ScopeKind.SELLER)
    return members.filter(wanted)


def _token_snapshot(tokens, now):
    return [
        {
            "id": token.pk,
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at.isoformat(),
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
            "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            "usable": token.revoked_at is None and (token.expires_at is None or token.expires_at > now),
        }
        for token in tokens
        if token.revoked_at is None
    ]


def _add_items(review, seller, selection, now) -> int:
    """One item per selected member, in batches: per batch, the members, their assignments (with their
    stores and warehouses), their tokens, then one insert of items and one of reviewer links."""
    ids = list(_selected_members(seller, selection).order_by("pk").values_list("pk", flat=True).distinct())
    if not ids:
        return 0
    reaches = list(reach.reviewer_reaches(seller).values())
    places = reach.places_of(seller)
    owner_id = Membership.objects.filter(seller=seller, kind=MembershipKind.OWNER).values_list(
        "pk", flat=True
    )[0]
    # What each reviewer holds, read once: a reviewer is asked only about members they may act on
    # (roles.authority: members holding nothing the reviewer does not).
    holdings = [
        authority.Holdings(m)
        for m in Membership.objects.filter(pk__in=[r.membership_id for r in reaches]).select_related("seller")
    ]
    for batch in batched(ids, BATCH_SIZE):
        members = list(Membership.objects.filter(pk__in=batch).select_related("user").order_by("pk"))
        access, assignments = reach.load_access(batch)
        actionable = authority.may_act_on_each(holdings, members, assignments)
        tokens = {pk: [] for pk in batch}
        for token in ApiToken.objects.filter(membership_id__in=batch).order_by("-created_at", "-pk"):
            tokens[token.membership_id].append(token)
        items = []
        for member in members:
            member_tokens = tokens[member.pk]
            last_api_use = max((t.last_used_at for t in member_tokens if t.last_used_at), default=None)
            snapshot = _token_snapshot(member_tokens, now)
            suggestion = recommend(
                membership=member,
                access=access[member.pk],
                last_sign_in_at=member.user.last_login,
                last_api_use_at=last_api_use,
                tokens=snapshot,
                now=now,
            )
            items.append(
                ReviewItem(
                    review=review,
                    membership=member,
                    kind=member.kind,
                    status=member.status,
                    access=access[member.pk],
                    tokens=snapshot,
                    last_sign_in_at=member.user.last_login,
                    last_api_use_at=last_api_use,
                    recommendation=suggestion.recommendation,
                    recommendation_reason=suggestion.reason,
                    recommendation_days=suggestion.days,
                    recommendation_role=suggestion.role,
                )
            )
        ReviewItem.objects.bulk_create(items)
        links = []
        for item in items:
            if item.kind == MembershipKind.OWNER:
                reviewers = [owner_id]
            else:
                reviewers = [
                    r.membership_id
                    for r in reaches
                    if item.membership_id in actionable[r.membership_id] and r.covers(item.access, places)
                ] or [owner_id]
            links += [ItemReviewer(review=review, item=item, membership_id=pk) for pk in reviewers]
        ItemReviewer.objects.bulk_create(links)
    return len(ids)
