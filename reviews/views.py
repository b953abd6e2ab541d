"""Dashboard pages of access reviews: the list, starting one, a reviewer's queue, answering an item,
closing, and the report (page, CSV, printable). Thin: parse, call one service or selector, render."""

import csv
import functools

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.authorization import member_has_permission_everywhere
from accounts.decorators import seller_view
from accounts.forms import apply_service_error
from accounts.models import MembershipStatus
from accounts.selectors import list_members
from audit.services import AUDIT_VIEW, record_denial
from ozonseat.errors import Conflict, InvalidInput, NotAllowed, NotFound
from roles.selectors import list_stores

from . import opening, reach, selectors, services
from .forms import DecisionForm, QueueFilterForm, StartReviewForm
from .models import Decision


def reviewer_view(view):
    """A page for reviewers: the owner and holders of reviews.run (at any scope). Others get 403, a
    non-member 404 (seller_view)."""

    @functools.wraps(view)
    def inner(request, *args, seller, membership, **kwargs):
        if not reach.is_reviewer(membership):
            record_denial(request, seller=seller, status=403, permission=reach.REVIEWS_RUN)
            raise PermissionDenied()
        return view(request, *args, seller=seller, membership=membership, **kwargs)

    wrapped = seller_view()(inner)
    wrapped.seller_permission = reach.REVIEWS_RUN
    return wrapped


def _require_owner(membership):
    if not membership.is_owner:
        raise NotAllowed()


@reviewer_view
@require_safe
def review_list(request, *, seller, membership):
    reviews = list(selectors.list_reviews(seller)[:50])
    current = next((r for r in reviews if r.is_open), None)
    return render(
        request,
        "reviews/reviews.html",
        {
            "reviews": reviews,
            "current": current,
            "progress": selectors.progress(current, membership) if current else None,
            "can_report": membership.is_owner or _audits(membership),
        },
    )


def _audits(membership) -> bool:
    return member_has_permission_everywhere(membership, AUDIT_VIEW)


@seller_view()
@require_http_methods(["GET", "POST"])
def start(request, *, seller, membership):
    _require_owner(membership)
    form = StartReviewForm(
        request.POST or None, members=list_members(seller), stores=list_stores(seller, include_inactive=False)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            review = opening.start_review(
                actor=request.user,
                seller=seller,
                member_ids=data["members"],
                store_ids=data["stores"],
                markets=data["markets"],
            )
        except (InvalidInput, Conflict) as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request,
                ngettext(
                    "The access review is open: %(count)d member to review.",
                    "The access review is open: %(count)d members to review.",
                    review.item_count,
                )
                % {"count": review.item_count},
            )
            return redirect("reviews:review", seller_id=seller.pk, review_id=review.pk)
    return render(request, "reviews/start.html", {"form": form, "open_review": selectors.open_review(seller)})


@reviewer_view
@require_safe
def review(request, review_id, *, seller, membership):
    current = selectors.get_review_for_seller(seller, review_id)
    filters = QueueFilterForm(request.GET or None).filters()
    queue = selectors.review_queue(current, membership, **filters)
    page = Paginator(queue, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reviews/review.html",
        {
            "review": current,
            "items": selectors.describe(page.object_list, seller),
            "page": page,
            "filters": filters,
            "progress": selectors.progress(current, membership),
            "overdue": current.is_overdue(timezone.now()),
            "query": _query_without_page(request),
            "can_report": membership.is_owner or _audits(membership),
        },
    )


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@reviewer_view
@require_POST
def keep_recommended(request, review_id, *, seller, membership):
    current = selectors.get_review_for_seller(seller, review_id)
    try:
        count = services.keep_recommended(actor=request.user, review=current)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            ngettext("%(count)d member kept as recommended.", "%(count)d members kept as recommended.", count)
            % {"count": count},
        )
    return redirect(
        f"{reverse('reviews:review', args=[seller.pk, current.pk])}?{request.POST.get('query', '')}"
    )


@seller_view()
@require_http_methods(["GET", "POST"])
def close(request, review_id, *, seller, membership):
    _require_owner(membership)
    current = selectors.get_review_for_seller(seller, review_id)
    back = reverse("reviews:review", args=[seller.pk, current.pk])
    if request.method == "POST":
        try:
            services.close_review(actor=request.user, review=current)
        except Conflict as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The access review is closed."))
        return redirect(back)
    unanswered = selectors.progress(current, membership).unanswered
    return render(
        request,
        "roles/confirm.html",
        {
            "label": _("Close the access review"),
            "consequence": ngettext(
                "%(count)d member has not been reviewed; they keep their access as it is, and the report "
                "lists them as not reviewed.",
                "%(count)d members have not been reviewed; they keep their access as it is, and the report "
                "lists them as not reviewed.",
                unanswered,
            )
            % {"count": unanswered},
            "cancel_url": back,
        },
    )


def _decisions_for(item):
    if item.membership.is_owner:
        return [(Decision.KEEP, Decision.KEEP.label)]
    return Decision.choices


@reviewer_view
@require_http_methods(["GET", "POST"])
def item(request, review_id, item_id, *, seller, membership):
    current = selectors.get_review_for_seller(seller, review_id)
    found = selectors.get_item_for_reviewer(seller, membership, item_id)
    if found.review_id != current.pk:
        raise NotFound()
    [found] = selectors.describe([found], seller)
    now_held = selectors.describe_access(
        reach.access_of([found.membership_id])[found.membership_id], seller.pk
    )
    form = DecisionForm(
        request.POST or None,
        assignments=[(a["assignment_id"], f"{a['role_label']} — {a['scope_label']}") for a in now_held],
        decisions=_decisions_for(found),
    )
    back = f"{reverse('reviews:review', args=[seller.pk, current.pk])}?{request.GET.get('back', '')}"
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.decide_item(
                actor=request.user,
                item=found,
                decision=data["decision"],
                comment=data["comment"],
                remove_assignment_ids=data["remove_assignments"],
            )
        except (InvalidInput, Conflict, NotAllowed) as error:
            # NotAllowed here says why this reviewer cannot make this change (roles.authority's rule):
            # shown on the form, with keeping still possible.
            apply_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(name)s: %(decision)s.")
                % {"name": found.membership.user, "decision": Decision(data["decision"]).label},
            )
            return redirect(back)
    return render(
        request,
        "reviews/item.html",
        {
            "review": current,
            "item": found,
            "form": form,
            "back": back,
            "own_item": found.membership_id == membership.pk,
            "can_decide": current.is_open and not found.decision,
            "member_url": reverse("accounts:member", args=[seller.pk, found.membership_id]),
            "removed": found.membership.status == MembershipStatus.REMOVED,
        },
    )


# --- the report -----------------------------------------------------------------------------------


def _report_context(seller, current):
    items = selectors.describe(selectors.report_items(current), seller)
    return {"review": current, "items": items}


@seller_view(AUDIT_VIEW, everywhere=True)
@require_safe
def report(request, review_id, *, seller, membership):
    current = selectors.get_review_for_seller(seller, review_id)
    return render(request, "reviews/report.html", _report_context(seller, current))


@seller_view(AUDIT_VIEW, everywhere=True)
@require_safe
def report_print(request, review_id, *, seller, membership):
    current = selectors.get_review_for_seller(seller, review_id)
    return render(request, "reviews/report_print.html", _report_context(seller, current))


@seller_view(AUDIT_VIEW, everywhere=True)
@require_safe
def report_csv(request, review_id, *, seller, membership):
    current = selectors.get_review_for_seller(seller, review_id)
    # Streamed: a review of 5,000 members is a file the response need not hold whole.
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in selectors.report_rows(current, seller)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="access-review-{current.pk}.csv"'
    response["Cache-Control"] = "no-store"
    return response


class _Echo:
    """csv.writer's file: hands each written row back, for streaming."""

    def write(self, value):
        return value
