"""Access reviews: the periodic confirmation that each member still needs what they have.

A review holds one item per member and service account, with a snapshot of their access when it opened
(assignments and who granted them when, tokens, last sign-in and API use) and a recommendation. Reviewers
decide each item; reminders go out by e-mail; at the due date the seller's policy deals with the rest.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ReviewDuePolicy


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class ReviewTrigger(models.TextChoices):
    SCHEDULED = "scheduled", _("On schedule")
    MANUAL = "manual", _("Started by the owner")


class CloseReason(models.TextChoices):
    ANSWERED = "answered", _("Every item was answered")
    POLICY = "policy", _("The due-date policy dealt with the rest")
    OWNER = "owner", _("Closed by the owner")


class AccessReview(models.Model):
    seller = models.ForeignKey("accounts.Seller", on_delete=models.PROTECT, related_name="access_reviews")
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    trigger = models.CharField(max_length=10, choices=ReviewTrigger.choices)
    # Everyone, or the chosen members / stores / markets ({"members": [...], "stores": [...],
    # "markets": [...]}). Only a review of everyone restarts the schedule.
    covers_everyone = models.BooleanField(default=True)
    selection = models.JSONField(default=dict, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    # The schedule, in the seller's time zone as it was at opening (reviews.schedule).
    time_zone = models.CharField(max_length=64, default="UTC")
    opened_on = models.DateField()
    halfway_on = models.DateField()
    due_on = models.DateField()
    due_at = models.DateTimeField()
    due_policy = models.CharField(max_length=20, choices=ReviewDuePolicy.choices)
    policy_applied_at = models.DateTimeField(null=True, blank=True)
    item_count = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    close_reason = models.CharField(max_length=10, choices=CloseReason.choices, blank=True)
    # "<seller>:<sequence>:<hash>" of the review.closed event: the audit chain's head at closing, in the
    # form `manage.py audit_verify` prints, for the seller's own auditors.
    closing_digest = models.CharField(max_length=120, blank=True)

    class Meta:
        constraints = [
            # One open review per seller: two beats, or a beat and the owner, cannot open two.
            models.UniqueConstraint(
                fields=["seller"], condition=Q(status="open"), name="reviews_one_open_review_per_seller"
            )
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="reviews_review_due")]

    def __str__(self):
        return f"Access review {self.pk} of seller {self.seller_id}"

    @property
    def is_open(self) -> bool:
        return self.status == ReviewStatus.OPEN

    def is_overdue(self, now=None) -> bool:
        return self.is_open and (now or timezone.now()) >= self.due_at


class Recommendation(models.TextChoices):
    KEEP = "keep", _("Keep")
    CHECK = "check", _("Check")
    REMOVE = "remove", _("Remove")


class Decision(models.TextChoices):
    KEEP = "keep", _("Keep")
    CHANGE = "change", _("Change")
    REMOVE = "remove", _("Remove access")
    SUSPEND = "suspend", _("Suspend")


class PolicyOutcome(models.TextChoices):
    LEFT = "left", _("Left as it was")
    SUSPENDED = "suspended", _("Suspended by the policy")
    ASSIGNMENTS_REMOVED = "assignments_removed", _("Roles taken away by the policy")
    NOTHING_TO_DO = "nothing_to_do", _("Nothing to do (already without access)")


class ReviewItem(models.Model):
    review = models.ForeignKey(AccessReview, on_delete=models.CASCADE, related_name="items")
    membership = models.ForeignKey("accounts.Membership", on_delete=models.PROTECT, related_name="+")
    # What the member was and had when the review opened (names are looked up when shown).
    kind = models.CharField(max_length=10)
    status = models.CharField(max_length=10)
    access = models.JSONField(default=list)  # [{assignment_id, role_id, role_name, scope_kind, market,
    #                                            store_ids, warehouse_ids, granted_by_id, granted_at}]
    tokens = models.JSONField(default=list)  # [{id, name, prefix, created_at, expires_at, last_used_at}]
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    last_api_use_at = models.DateTimeField(null=True, blank=True)
    recommendation = models.CharField(max_length=10, choices=Recommendation.choices)
    recommendation_reason = models.CharField(max_length=30)
    recommendation_days = models.PositiveIntegerField(null=True, blank=True)
    recommendation_role = models.CharField(max_length=100, blank=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.CharField(max_length=1000, blank=True)
    changed = models.JSONField(default=dict, blank=True)  # for "change": {"removed": [...], "added": [...]}
    policy_outcome = models.CharField(max_length=20, choices=PolicyOutcome.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "membership"], name="reviews_one_item_per_member")
        ]
        indexes = [models.Index(fields=["review", "decision", "id"], name="reviews_item_state")]

    def __str__(self):
        return f"Review item {self.pk} (membership {self.membership_id})"

    @property
    def is_answered(self) -> bool:
        return bool(self.decision)

    @property
    def is_own_owner_item(self) -> bool:
        return self.kind == "owner"


class ItemReviewer(models.Model):
    """Who is asked to answer an item (reminded, and shown it in "waiting for me"): the reviews.run holders
    whose reach covers the member when the review opened, else the owner. Decisions are checked against
    the reach at the time of deciding (reviews.reach)."""

    review = models.ForeignKey(AccessReview, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="reviewers")
    membership = models.ForeignKey("accounts.Membership", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "membership"], name="reviews_one_link_per_reviewer")
        ]
        indexes = [models.Index(fields=["review", "membership", "item"], name="reviews_reviewer_queue")]

    def __str__(self):
        return f"Membership {self.membership_id} reviews item {self.item_id}"


class ReminderKind(models.TextChoices):
    OPENED = "opened", _("The review opened")
    HALFWAY = "halfway", _("Halfway")
    TWO_DAYS = "two_days", _("Two days before the due date")
    DUE = "due", _("Due today")
    OVERDUE = "overdue", _("Overdue")


class ReviewReminder(models.Model):
    """One reminder e-mail. The row is the promise that it goes out at most once: the sending task claims
    it (handed_over_at) in its own committed transaction at the moment the SMTP server takes the message
    (reviews.delivery), and never sends a claimed one again."""

    review = models.ForeignKey(AccessReview, on_delete=models.CASCADE, related_name="reminders")
    recipient = models.ForeignKey("accounts.Membership", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=ReminderKind.choices)
    day = models.DateField()  # in the review's time zone
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # the server confirmed it
    skipped_at = models.DateTimeField(null=True, blank=True)  # nothing waited any more when it was sent
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "recipient", "kind"], name="reviews_reminder_once"),
            # At most one e-mail per reviewer per day.
            models.UniqueConstraint(fields=["recipient", "day"], name="reviews_reminder_one_a_day"),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="reviews_reminder_unsent",
                condition=Q(handed_over_at__isnull=True, skipped_at__isnull=True),
            )
        ]

    def __str__(self):
        return f"{self.kind} reminder {self.pk}"
