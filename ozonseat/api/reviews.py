"""Access reviews: list and start reviews, read a reviewer's items, answer them. Every write calls the same
service as the dashboard."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from accounts.authorization import require_owner
from reviews import opening, reach, selectors, services
from reviews.models import Decision, Recommendation
from roles.models import Market

from .serializers import StrictSerializer
from .views import SellerView

REVIEWERS = (
    "The owner and holders of `reviews.run` may call it; a holder for a market or chosen stores sees only "
    "the members whose whole access lies there."
)


class ReviewerView(SellerView):
    # The owner and holders of reviews.run at any scope (a market, stores, the whole seller).
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not reach.is_reviewer(self.membership):
            raise exceptions.PermissionDenied()


class ReviewPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Items the caller sees (every item for the owner).")
    answered = serializers.IntegerField()
    waiting_for_me = serializers.IntegerField(help_text="Unanswered items asked of the caller.")
    decisions = serializers.DictField(child=serializers.IntegerField())


class ReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    trigger = serializers.CharField()
    covers_everyone = serializers.BooleanField()
    selection = serializers.DictField()
    started_by_id = serializers.IntegerField(allow_null=True)
    opened_at = serializers.DateTimeField()
    due_on = serializers.DateField()
    due_at = serializers.DateTimeField()
    due_policy = serializers.CharField()
    policy_applied_at = serializers.DateTimeField(allow_null=True)
    item_count = serializers.IntegerField()
    closed_at = serializers.DateTimeField(allow_null=True)
    close_reason = serializers.CharField()
    closing_digest = serializers.CharField(
        help_text="`<seller>:<sequence>:<hash>` of the audit chain at closing, as `audit_verify` prints it."
    )


class ReviewDetailSerializer(ReviewSerializer):
    progress = serializers.SerializerMethodField()

    def get_progress(self, review) -> ProgressSerializer:
        return ProgressSerializer(selectors.progress(review, self.context["membership"])).data


class GrantSerializer(serializers.Serializer):
    assignment_id = serializers.IntegerField()
    role_id = serializers.IntegerField()
    role_name = serializers.CharField(source="role_label")
    scope_kind = serializers.CharField()
    market = serializers.CharField()
    store_ids = serializers.ListField(child=serializers.IntegerField())
    warehouse_ids = serializers.ListField(child=serializers.IntegerField())
    granted_by_id = serializers.IntegerField(allow_null=True)
    granted_at = serializers.DateTimeField(source="granted")


class ItemTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    last_used_at = serializers.CharField(allow_null=True)
    usable = serializers.BooleanField()


class ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    membership_id = serializers.IntegerField()
    email = serializers.EmailField(source="membership.user.email")
    display_name = serializers.CharField(source="membership.user.display_name")
    kind = serializers.CharField(help_text="owner, member or service, when the review opened.")
    status = serializers.CharField(help_text="The membership's status when the review opened.")
    access = GrantSerializer(source="grants", many=True, help_text="Assignments when the review opened.")
    tokens = ItemTokenSerializer(many=True)
    last_sign_in_at = serializers.DateTimeField(allow_null=True)
    last_api_use_at = serializers.DateTimeField(allow_null=True)
    recommendation = serializers.CharField()
    recommendation_reason = serializers.CharField()
    recommendation_text = serializers.CharField()
    decision = serializers.CharField(help_text="Empty while unanswered.")
    decided_by_id = serializers.IntegerField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    comment = serializers.CharField()
    changed = serializers.DictField(help_text='For "change": the roles taken away and given since opening.')
    policy_outcome = serializers.CharField()


class StartSerializer(StrictSerializer):
    member_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    store_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    markets = serializers.ListField(
        child=serializers.ChoiceField(choices=Market.choices), required=False, default=list
    )


class ItemFilterSerializer(StrictSerializer):
    state = serializers.ChoiceField(choices=selectors.STATES, required=False, default="waiting")
    recommendation = serializers.ChoiceField(choices=Recommendation.choices, required=False, default="")
    mine = serializers.BooleanField(
        required=False, default=False, help_text="The owner: only the items asked of the owner."
    )
    search = serializers.CharField(required=False, max_length=100, allow_blank=True, default="")
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)


class DecisionSerializer(StrictSerializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
    remove_assignment_ids = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        default=list,
        help_text='For "change": the member\'s assignments to take away.',
    )


class KeptSerializer(serializers.Serializer):
    kept = serializers.IntegerField()


class ReviewListView(ReviewerView):
    @extend_schema(
        operation_id="reviews_list",
        responses=ReviewSerializer(many=True),
        summary="List access reviews",
        description=f"The seller's access reviews, newest first (the last 100). {REVIEWERS}",
    )
    def get(self, request, seller_id):
        return Response(ReviewSerializer(selectors.list_reviews(self.seller)[:100], many=True).data)

    @extend_schema(
        operation_id="reviews_start",
        request=StartSerializer,
        responses={201: ReviewDetailSerializer},
        summary="Start an access review now",
        description="Of everyone (an empty body), or of the chosen members and of the members whose access "
        "reaches the chosen stores or markets. One review is open at a time (409 otherwise). Only the owner "
        "may call it.",
    )
    def post(self, request, seller_id):
        require_owner(actor=self.actor, seller=self.seller)
        data = StartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = opening.start_review(
            actor=self.actor,
            seller=self.seller,
            member_ids=data.validated_data["member_ids"],
            store_ids=data.validated_data["store_ids"],
            markets=data.validated_data["markets"],
        )
        body = ReviewDetailSerializer(review, context={"membership": self.membership}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ReviewDetailView(ReviewerView):
    @extend_schema(
        operation_id="reviews_read",
        responses=ReviewDetailSerializer,
        summary="Read an access review",
        description=f"The review, with the caller's progress. {REVIEWERS}",
    )
    def get(self, request, seller_id, review_id):
        review = selectors.get_review_for_seller(self.seller, review_id)
        return Response(ReviewDetailSerializer(review, context={"membership": self.membership}).data)


class ReviewItemListView(ReviewerView):
    pagination_class = ReviewPagination

    @extend_schema(
        operation_id="reviews_items",
        parameters=[ItemFilterSerializer],
        responses=ItemSerializer(many=True),
        summary="List a reviewer's items",
        description="The items of the review the caller answers (every item for the owner), waiting ones by "
        f"default, in pages of `page_size` (default 50). {REVIEWERS}",
    )
    def get(self, request, seller_id, review_id):
        review = selectors.get_review_for_seller(self.seller, review_id)
        filters = ItemFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        wanted = {k: v for k, v in filters.validated_data.items() if k not in ("page", "page_size")}
        page = self.paginate_queryset(selectors.review_queue(review, self.membership, **wanted))
        items = selectors.describe(page, self.seller)
        return self.get_paginated_response(ItemSerializer(items, many=True).data)


class ReviewItemDecisionView(ReviewerView):
    @extend_schema(
        operation_id="reviews_decide",
        request=DecisionSerializer,
        responses=ItemSerializer,
        summary="Answer an item",
        description="keep; change (take away `remove_assignment_ids`, and record what changed since the "
        "review opened); remove (the member leaves the seller: sessions and tokens end at once); suspend. "
        f"Nobody answers for their own access; the owner's item is only kept. {REVIEWERS}",
    )
    def post(self, request, seller_id, review_id, item_id):
        review = selectors.get_review_for_seller(self.seller, review_id)
        item = selectors.get_item_for_reviewer(self.seller, self.membership, item_id)
        if item.review_id != review.pk:
            raise exceptions.NotFound()
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.decide_item(actor=self.actor, item=item, **data.validated_data)
        item = selectors.get_item_for_reviewer(self.seller, self.membership, item.pk)
        return Response(ItemSerializer(selectors.describe([item], self.seller)[0]).data)


class KeepRecommendedView(ReviewerView):
    @extend_schema(
        operation_id="reviews_keep_recommended",
        request=None,
        responses=KeptSerializer,
        summary="Keep every item recommended to keep",
        description=f"Among the unanswered items asked of the caller (all, for the owner). {REVIEWERS}",
    )
    def post(self, request, seller_id, review_id):
        review = selectors.get_review_for_seller(self.seller, review_id)
        return Response({"kept": services.keep_recommended(actor=self.actor, review=review)})
