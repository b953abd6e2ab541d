"""Writes for access reviews: decisions, the due-date policy and closing. Decisions and the policy act
through the accounts and roles services' own actions (`apply_removal`, `apply_suspension`,
`apply_assignment_revocation`), so sessions, tokens, the permission index and the audit log follow exactly
as when a member is removed from their page.

Opening lives in reviews.opening, reminders in reviews.emails; row locks follow reviews.locks.
"""

import logging
from collections import Counter
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import services as accounts_services
from accounts.authorization import get_effective_membership, require_owner
from accounts.models import (
    Membership,
    MembershipKind,
    MembershipStatus,
    ReviewDuePolicy,
)
from audit import events
from audit.services import record_event
from ozonseat.errors import Conflict, InvalidInput, NotAllowed, ServiceError
from roles import authority
from roles import services as roles_services
from roles.models import Assignment

from . import reach
from .locks import share_user
from .models import (
    AccessReview,
    CloseReason,
    Decision,
    PolicyOutcome,
    Recommendation,
    ReviewItem,
    ReviewStatus,
)
from .opening import BATCH_SIZE, batched

logger = logging.getLogger(__name__)

MAX_COMMENT = 1000
# Recorded as the `reason` of the member.removed / member.suspended / assignment.revoked events.
DECISION_REASON = "access_review"
POLICY_REASON = "access_review_policy"


# --- decisions ------------------------------------------------------------------------------------


def _lock_open_review(review) -> AccessReview:
    review = AccessReview.objects.select_for_update().select_related("seller").get(pk=review.pk)
    if review.status != ReviewStatus.OPEN:
        raise Conflict(_("This access review is closed."), code="review_closed")
    return review


def _reviewer(actor, seller):
    membership = get_effective_membership(actor, seller)
    if membership is None or reach.reach_of(membership) is None:
        raise NotAllowed(permission=reach.REVIEWS_RUN)
    return membership


def _require_may_review(reviewer, subject):
    """Checked against the access the member has now, not the snapshot (it may have changed since)."""
    if subject.pk == reviewer.pk and not reviewer.is_owner:
        raise NotAllowed(_("Nobody reviews their own access."), code="self", permission=reach.REVIEWS_RUN)
    places = reach.places_of(subject.seller_id)
    access = reach.access_of([subject.pk])[subject.pk]
    if not reach.may_review(reviewer, reach.reach_of(reviewer), subject, access, places):
        raise NotAllowed(
            _("This member's access lies outside where you review."), permission=reach.REVIEWS_RUN
        )


def _clean_comment(comment) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(
            field="comment",
            message=ngettext("At most %(count)d character.", "At most %(count)d characters.", MAX_COMMENT)
            % {"count": MAX_COMMENT},
        )
    return comment


def _assignment_key(assignment: dict):
    return (
        assignment["role_id"],
        assignment["scope_kind"],
        assignment["market"],
        tuple(assignment["store_ids"]),
        tuple(assignment["warehouse_ids"]),
    )


def _what_changed(before: list[dict], after: list[dict]) -> dict:
    """Assignments gone and come since the snapshot, compared by role and scope."""
    before_keys = {_assignment_key(a) for a in before}
    after_keys = {_assignment_key(a) for a in after}
    keep = ("assignment_id", "role_id", "role_name", "scope_kind", "market", "store_ids", "warehouse_ids")
    return {
        "removed": [{k: a[k] for k in keep} for a in before if _assignment_key(a) not in after_keys],
        "added": [{k: a[k] for k in keep} for a in after if _assignment_key(a) not in before_keys],
    }


def decide_item(
    *, actor, item, decision: str, comment: str = "", remove_assignment_ids=(), now=None
) -> ReviewItem:
    """Answer one item: keep; change (take away the chosen roles here, and/or record what was changed on
    the member's page since the review opened); remove the member; or suspend them."""
    if decision not in Decision.values:
        raise InvalidInput(field="decision", message=_("Choose keep, change, remove access or suspend."))
    comment = _clean_comment(comment)
    seller = item.review.seller
    reviewer = _reviewer(actor, seller)
    with transaction.atomic():
        share_user(actor)  # decided_by points at it (see the module's docstring)
        review = _lock_open_review(item.review)
        item = ReviewItem.objects.select_for_update().get(pk=item.pk, review=review)
        if item.decision:
            raise Conflict(_("This item has already been answered."), code="answered")
        subject = Membership.objects.select_related("user", "seller").get(pk=item.membership_id)
        _require_may_review(reviewer, subject)
        if subject.is_owner and decision != Decision.KEEP:
            raise InvalidInput(
                field="decision", message=_("The owner's access can only be confirmed: nobody is above it.")
            )
        authorize = partial(_require_reviewer_may_change, reviewer)
        if decision != Decision.KEEP:
            authorize(subject)  # early, with the reason; the actions check again once the row is locked
        item.changed = _apply_decision(actor, subject, item, decision, remove_assignment_ids, authorize)
        item.decision = decision
        item.comment = comment
        item.decided_by = actor
        item.decided_at = now or timezone.now()
        item.save(update_fields=["decision", "comment", "decided_by", "decided_at", "changed"])
        _record_decision(review, item, actor)
        _close_if_answered(review, actor=actor, now=now)
    return item


def _require_reviewer_may_change(reviewer, membership) -> None:
    """The rule for acting on people (roles.authority) applies to a reviewer changing someone's access."""
    if not authority.may_act_on(reviewer, membership):
        raise NotAllowed(
            _(
                "%(name)s holds permissions you do not hold, so you cannot change their access: keep it, "
                "or leave it to the owner."
            )
            % {"name": membership.user},
            code="holds_more",
            permission=reach.REVIEWS_RUN,
        )


def _policy_may_change(membership) -> None:
    """The seller's own due-date policy acts on anyone but the owner."""
    if membership.is_owner:
        raise NotAllowed(code="owner")


def _apply_decision(actor, subject, item, decision, remove_assignment_ids, authorize) -> dict:
    if decision == Decision.REMOVE:
        if subject.status != MembershipStatus.REMOVED:
            accounts_services.apply_removal(
                actor=actor, membership=subject, authorize=authorize, reason=DECISION_REASON
            )
        return {}
    if decision == Decision.SUSPEND:
        if subject.status == MembershipStatus.ACTIVE:
            accounts_services.apply_suspension(
                actor=actor, membership=subject, authorize=authorize, reason=DECISION_REASON
            )
        elif subject.status != MembershipStatus.SUSPENDED:
            raise Conflict(_("Only an active member can be suspended."), code="not_active")
        return {}
    if decision == Decision.CHANGE:
        wanted = {int(pk) for pk in remove_assignment_ids}
        assignments = list(
            Assignment.objects.select_related("membership__seller").filter(membership=subject, pk__in=wanted)
        )
        if len(assignments) != len(wanted):
            raise InvalidInput(field="remove_assignments", message=_("Choose roles this member holds."))
        for assignment in assignments:
            roles_services.apply_assignment_revocation(
                actor=actor, assignment=assignment, authorize=authorize, reason=DECISION_REASON
            )
        changed = _what_changed(item.access, reach.access_of([subject.pk])[subject.pk])
        if not changed["removed"] and not changed["added"]:
            raise InvalidInput(
                field="remove_assignments",
                message=_(
                    "Nothing has changed in this member's access since the review opened: choose roles to "
                    "take away, or change their access on their page first."
                ),
            )
        return changed
    return {}


def _record_decision(review, item, actor):
    record_event(
        action=events.REVIEW_ITEM_DECIDED,
        seller=review.seller_id,
        actor=actor,
        target_type="membership",
        target_id=item.membership_id,
        changes={
            "review_id": [None, review.pk],
            "item_id": [None, item.pk],
            "decision": [None, item.decision],
            "commented": [None, bool(item.comment)],
        },
    )


def keep_recommended(*, actor, review, now=None) -> int:
    """Keep, in one action, every item waiting for this reviewer whose recommendation is to keep: the
    owner's whole review, a reviewer's own queue. Each is recorded like a single decision."""
    seller = review.seller
    reviewer = _reviewer(actor, seller)
    now = now or timezone.now()
    kept = 0
    with transaction.atomic():
        share_user(actor)
        review = _lock_open_review(review)
        items = ReviewItem.objects.filter(review=review, decision="", recommendation=Recommendation.KEEP)
        if not reviewer.is_owner:
            items = items.filter(reviewers__membership=reviewer)
        items = list(items.select_for_update(of=("self",)).order_by("pk"))
        places = reach.places_of(seller)
        reviewer_reach = reach.reach_of(reviewer)
        for batch in batched(items, BATCH_SIZE):
            subjects = {
                m.pk: m for m in Membership.objects.filter(pk__in=[item.membership_id for item in batch])
            }
            access = reach.access_of(list(subjects))
            allowed = [
                item
                for item in batch
                if reach.may_review(
                    reviewer, reviewer_reach, subjects[item.membership_id], access[item.membership_id], places
                )
            ]
            ReviewItem.objects.filter(pk__in=[item.pk for item in allowed]).update(
                decision=Decision.KEEP, decided_by=actor, decided_at=now
            )
            for item in allowed:
                item.decision, item.comment = Decision.KEEP, ""
                _record_decision(review, item, actor)
            kept += len(allowed)
        _close_if_answered(review, actor=actor, now=now)
    return kept


# --- closing and the due-date policy --------------------------------------------------------------


def _close_if_answered(review, *, actor, now=None):
    if not ReviewItem.objects.filter(review=review, decision="").exists():
        _close(review, actor=actor, reason=CloseReason.ANSWERED, now=now)


def _close(review, *, actor, reason, now=None):
    counts = Counter(ReviewItem.objects.filter(review=review).values_list("decision", flat=True))
    review.status = ReviewStatus.CLOSED
    review.closed_at = now or timezone.now()
    review.closed_by = actor
    review.close_reason = reason
    event = record_event(
        action=events.REVIEW_CLOSED,
        seller=review.seller_id,
        actor=actor,
        target=review,
        changes={
            "status": [ReviewStatus.OPEN, ReviewStatus.CLOSED],
            "reason": [None, reason],
            "decisions": [None, {key or "unanswered": value for key, value in sorted(counts.items())}],
        },
    )
    # The head of the seller's audit chain right after this event: the digest `audit_verify` prints.
    review.closing_digest = f"{review.seller_id}:{event.sequence}:{event.hash}"
    review.save(update_fields=["status", "closed_at", "closed_by", "close_reason", "closing_digest"])


def close_review(*, actor, review, now=None) -> AccessReview:
    """The owner closes a review; items nobody answered stay unanswered in the report."""
    require_owner(actor=actor, seller=review.seller)
    with transaction.atomic():
        share_user(actor)
        review = _lock_open_review(review)
        _close(review, actor=actor, reason=CloseReason.OWNER, now=now)
    return review


def apply_due_policies(*, now=None) -> list[int]:
    """The beat's job at the due date: for each review past it, the seller's policy deals with the items
    nobody answered, once (policy_applied_at)."""
    now = now or timezone.now()
    due = AccessReview.objects.filter(
        status=ReviewStatus.OPEN, due_at__lte=now, policy_applied_at__isnull=True
    ).values_list("pk", flat=True)
    applied = []
    for review_id in list(due[:100]):
        if apply_due_policy(review_id=review_id, now=now):
            applied.append(review_id)
    return applied


def apply_due_policy(*, review_id, now=None) -> bool:
    now = now or timezone.now()
    with transaction.atomic():
        review = (
            AccessReview.objects.select_for_update(skip_locked=True)
            .filter(pk=review_id, status=ReviewStatus.OPEN, due_at__lte=now, policy_applied_at__isnull=True)
            .first()
        )
        if review is None:
            return False  # another beat has it, or it is done
        outcomes = {}
        unanswered = list(
            ReviewItem.objects.filter(review=review, decision="").select_related("membership").order_by("pk")
        )
        for item in unanswered:
            outcomes[item.pk] = _apply_policy(review.due_policy, item)
        for outcome in set(outcomes.values()):
            ReviewItem.objects.filter(pk__in=[pk for pk, o in outcomes.items() if o == outcome]).update(
                policy_outcome=outcome
            )
        review.policy_applied_at = now
        review.save(update_fields=["policy_applied_at"])
        counts = Counter(outcomes.values())
        record_event(
            action=events.REVIEW_POLICY_APPLIED,
            seller=review.seller_id,
            target=review,
            changes={
                "policy": [None, review.due_policy],
                "outcomes": [None, dict(sorted(counts.items()))],
                "item_ids": [None, sorted(outcomes)],
            },
        )
        if review.due_policy != ReviewDuePolicy.LEAVE:
            _close(review, actor=None, reason=CloseReason.POLICY, now=now)
    return True


def _apply_policy(policy, item) -> str:
    member = item.membership
    if policy == ReviewDuePolicy.LEAVE or member.kind == MembershipKind.OWNER:
        return PolicyOutcome.LEFT
    try:
        if policy == ReviewDuePolicy.SUSPEND:
            if member.status != MembershipStatus.ACTIVE:
                return PolicyOutcome.NOTHING_TO_DO
            accounts_services.apply_suspension(
                actor=None, membership=member, authorize=_policy_may_change, reason=POLICY_REASON
            )
            return PolicyOutcome.SUSPENDED
        snapshot_ids = [a["assignment_id"] for a in item.access]
        assignments = list(
            Assignment.objects.select_related("membership__seller").filter(
                membership=member, pk__in=snapshot_ids
            )
        )
        for assignment in assignments:
            roles_services.apply_assignment_revocation(
                actor=None, assignment=assignment, authorize=_policy_may_change, reason=POLICY_REASON
            )
        return PolicyOutcome.ASSIGNMENTS_REMOVED if assignments else PolicyOutcome.NOTHING_TO_DO
    except ServiceError as error:  # changed meanwhile (e.g. removed): recorded, never a crash of the beat
        logger.info("Review item %s: the policy found nothing to do (%s).", item.pk, error.code)
        return PolicyOutcome.NOTHING_TO_DO
