"""Reads for access reviews, each scoped to one seller and built to a fixed number of queries.

A reviewer sees the items they are asked to answer (reviews.reach decided it when the review opened); the
owner sees every item. Lookups answer the same NotFound for "does not exist", "another seller's" and
"not yours to see"."""

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Membership, MembershipKind, User
from ozonseat.errors import NotFound
from ozonseat.spreadsheets import safe_cell
from roles.models import Market, Role, ScopeKind, Store, Warehouse

from .models import AccessReview, Decision, ReviewItem, ReviewStatus
from .reach import is_reviewer
from .recommendations import explain

STATES = ("waiting", "answered", "all")
PAGE_SIZE = 50


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound() from None


def get_review_for_seller(seller, review_id) -> AccessReview:
    review = AccessReview.objects.filter(seller=seller, pk=_int(review_id)).select_related("seller").first()
    if review is None:
        raise NotFound()
    return review


def visible_items(review, viewer):
    """The items `viewer` (a working membership) sees: all for the owner, else those asked of them."""
    items = ReviewItem.objects.filter(review=review)
    if viewer.is_owner:
        return items
    return items.filter(reviewers__membership=viewer)


def get_item_for_reviewer(seller, viewer, item_id) -> ReviewItem:
    item = (
        ReviewItem.objects.filter(review__seller=seller, pk=_int(item_id))
        .select_related("review__seller", "membership__user", "decided_by")
        .first()
    )
    if item is None or not visible_items(item.review, viewer).filter(pk=item.pk).exists():
        raise NotFound()
    return item


def open_review(seller) -> AccessReview | None:
    return AccessReview.objects.filter(seller=seller, status=ReviewStatus.OPEN).first()


def list_reviews(seller):
    return (
        AccessReview.objects.filter(seller=seller)
        .annotate(answered=Count("items", filter=~Q(items__decision="")))
        .select_related("started_by", "closed_by")
        .order_by("-opened_at", "-pk")
    )


@dataclass(frozen=True)
class Progress:
    total: int
    answered: int
    waiting_for_me: int
    decisions: dict

    @property
    def unanswered(self) -> int:
        return self.total - self.answered

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 100


def progress(review, viewer) -> Progress:
    """Two queries: the decisions over the viewer's items, and how many wait for them."""
    counts = Counter(dict(visible_items(review, viewer).values_list("decision").annotate(n=Count("pk"))))
    waiting = ReviewItem.objects.filter(review=review, decision="", reviewers__membership=viewer).count()
    total = sum(counts.values())
    return Progress(total, total - counts.get("", 0), waiting, {d: counts.get(d, 0) for d in Decision.values})


def review_queue(review, viewer, *, state="waiting", recommendation="", mine=False, search=""):
    """The viewer's items with the filters, in a stable order (a queryset: paginate it, then `describe`)."""
    items = visible_items(review, viewer).select_related("membership__user", "decided_by")
    if mine and viewer.is_owner:
        items = items.filter(reviewers__membership=viewer)
    if state == "waiting":
        items = items.filter(decision="")
    elif state == "answered":
        items = items.exclude(decision="")
    if recommendation:
        items = items.filter(recommendation=recommendation)
    if search:
        search = search.strip()[:100]
        items = items.filter(
            Q(membership__user__email__icontains=search) | Q(membership__user__display_name__icontains=search)
        )
    return items.order_by("pk")


def _scope_label(assignment, stores, warehouses) -> str:
    kind = assignment["scope_kind"]
    if kind == ScopeKind.SELLER:
        return str(ScopeKind.SELLER.label)
    if kind == ScopeKind.MARKET:
        return str(Market(assignment["market"]).label)
    if kind == ScopeKind.STORES:
        return ", ".join(stores.get(pk, f"#{pk}") for pk in assignment["store_ids"])
    return ", ".join(warehouses.get(pk, f"#{pk}") for pk in assignment["warehouse_ids"])


def describe_access(assignments: list[dict], seller_id) -> list[dict]:
    """Assignment snapshots with words: the role's name, the scope's, who granted it and when. Three
    queries for any number of assignments (who granted, the stores, the warehouses)."""
    user_ids, store_ids, warehouse_ids = set(), set(), set()
    for assignment in assignments:
        if assignment["granted_by_id"]:
            user_ids.add(assignment["granted_by_id"])
        store_ids.update(assignment["store_ids"])
        warehouse_ids.update(assignment["warehouse_ids"])
    users = {u.pk: str(u) for u in User.objects.filter(pk__in=user_ids).only("email", "display_name")}
    stores = dict(Store.objects.filter(seller_id=seller_id, pk__in=store_ids).values_list("pk", "name"))
    warehouses = dict(
        Warehouse.objects.filter(seller_id=seller_id, pk__in=warehouse_ids).values_list("pk", "name")
    )
    return [
        {
            **assignment,
            "role_label": str(
                Role(name=assignment["role_name"], template_key=assignment["template_key"]).display_name
            ),
            "scope_label": _scope_label(assignment, stores, warehouses),
            "granted_by": users.get(assignment["granted_by_id"], ""),
            "granted": parse_datetime(assignment["granted_at"]) if assignment["granted_at"] else None,
        }
        for assignment in assignments
    ]


def describe(items, seller) -> list[ReviewItem]:
    """Words for a page of items, in three queries whatever its size (see describe_access). Sets
    `item.grants`, `item.recommendation_text` and `item.usable_tokens`."""
    items = list(items)
    described = iter(describe_access([a for item in items for a in item.access], seller.pk))
    for item in items:
        item.grants = [next(described) for _assignment in item.access]
        item.recommendation_text = explain(item)
        item.usable_tokens = sum(1 for token in item.tokens if token["usable"])
    return items


def report_items(review):
    """Every item of a review, for its report."""
    return (
        ReviewItem.objects.filter(review=review)
        .select_related("membership__user", "decided_by")
        .order_by("pk")
    )


REPORT_COLUMNS = (
    "item_id",
    "member_id",
    "name",
    "email",
    "kind",
    "status_at_opening",
    "roles",
    "tokens",
    "last_sign_in_at",
    "last_api_use_at",
    "recommendation",
    "decision",
    "decided_by",
    "decided_at",
    "comment",
    "changed",
    "policy_outcome",
)


def report_rows(review, seller):
    """The CSV report: what the review is (with the audit digest at closing), then one row per item."""
    yield ["seller", seller.name]
    yield ["review_id", review.pk]
    yield ["opened_at", review.opened_at.isoformat()]
    yield ["due_on", review.due_on.isoformat()]
    yield ["due_policy", review.due_policy]
    yield ["closed_at", review.closed_at.isoformat() if review.closed_at else ""]
    yield ["closing_audit_digest", review.closing_digest]
    yield []
    yield list(REPORT_COLUMNS)
    for item in describe(report_items(review), seller):
        roles = "; ".join(
            f"{g['role_label']} @ {g['scope_label']} ({g['granted_by'] or '-'}, {g['granted_at'][:10]})"
            for g in item.grants
        )
        values = [
            item.pk,
            item.membership_id,
            item.membership.user.display_name,
            item.membership.user.email,
            item.kind,
            item.status,
            roles,
            ", ".join(f"{t['name']} ({t['prefix']})" for t in item.tokens),
            _iso(item.last_sign_in_at),
            _iso(item.last_api_use_at),
            item.recommendation_text,
            item.decision or "unanswered",
            str(item.decided_by or ""),
            _iso(item.decided_at),
            item.comment,
            item.changed or "",
            item.policy_outcome,
        ]
        yield [safe_cell(value) for value in values]


def _iso(value):
    return value.isoformat() if value else ""


def overview_card(seller, membership):
    """The open review's progress for the overview page (None when nothing is open or the viewer does not
    review). Three queries."""

    review = open_review(seller)
    if review is None or not is_reviewer(membership):
        return None
    return {
        "review": review,
        "progress": progress(review, membership),
        "overdue": review.is_overdue(timezone.now()),
    }


def owner_of(seller) -> Membership:
    return Membership.objects.select_related("user").get(seller=seller, kind=MembershipKind.OWNER)
