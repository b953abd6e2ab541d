"""The audit log in the dashboard: the viewer and the streamed export. Thin: parse, select, render."""

import zoneinfo

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.authorization import member_has_seller_permission
from accounts.decorators import seller_view
from ozonseat.errors import InvalidInput
from roles.visibility import audit_event_reach

from . import digests, exports, selectors, services
from .describe import describe_events
from .forms import DigestRecipientsForm, EventFilterForm, RetentionForm
from .models import AuditPolicy

AUDIT_VIEW = services.AUDIT_VIEW


def _filters(request, seller, membership):
    """(form, filters); filters is None when the form has errors: then nothing is shown or exported,
    rather than more than the viewer asked for."""
    form = EventFilterForm(request.GET or None, seller=seller)
    # audit.view at a market or chosen stores: the selector keeps to those stores and their members.
    reach = audit_event_reach(seller, membership)
    if not form.is_bound:
        return form, selectors.EventFilters(reach=reach)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    filters = selectors.EventFilters.for_days(
        since=data.get("since"),
        until=data.get("until"),
        tzinfo=zoneinfo.ZoneInfo(seller.time_zone),
        actor_id=data.get("actor"),
        action=data.get("action") or "",
        target_type=data.get("target_type") or "",
        target_id=data.get("target_id"),
        store_id=data.get("store"),
        reach=reach,
    )
    return form, filters


@seller_view(AUDIT_VIEW)
def events(request, *, seller, membership):
    form, filters = _filters(request, seller, membership)
    if filters is None:
        page = selectors.EventPage([], None)
    else:
        try:
            page = selectors.list_events(seller, filters, request.GET.get("cursor") or None)
        except InvalidInput:
            page = selectors.list_events(seller, filters)
    rows = describe_events(page.events, time_zone=seller.time_zone)
    retention_form, policy = _retention_form(seller, membership, with_policy=True)
    query = request.GET.copy()
    query.pop("cursor", None)
    next_query = None
    if page.next_cursor:
        query["cursor"] = page.next_cursor
        next_query = query.urlencode()
        query.pop("cursor")
    return render(
        request,
        "audit/events.html",
        {
            "form": form,
            "rows": rows,
            "next_query": next_query,
            "filter_query": query.urlencode(),
            "is_first_page": not request.GET.get("cursor"),
            "seller_time_zone": seller.time_zone,
            "retention_form": retention_form,
            "digest_form": _digest_form(policy) if retention_form is not None else None,
            # The chain's digests are the whole seller's: for whole-log readers only.
            "digests": digests.latest_digests(seller.pk)
            if audit_event_reach(seller, membership) is None
            else [],
        },
    )


def _retention_form(seller, membership, data=None, *, with_policy=False):
    if not member_has_seller_permission(membership, services.SECURITY_MANAGE):
        return (None, None) if with_policy else None
    policy = AuditPolicy.objects.filter(seller_id=seller.pk).first()
    form = RetentionForm(data, initial={"retention_days": policy.retention_days if policy else None})
    return (form, policy) if with_policy else form


def _digest_form(policy, data=None):
    addresses = "\n".join(policy.digest_recipients or []) if policy else ""
    return DigestRecipientsForm(data, initial={"addresses": addresses})


@require_POST
@seller_view(services.SECURITY_MANAGE)
def digest_recipients(request, *, seller, membership):
    form = _digest_form(None, request.POST)
    if form.is_valid():
        try:
            services.set_digest_recipients(
                actor=request.user, seller=seller, addresses=form.cleaned_data["addresses"].splitlines()
            )
        except InvalidInput as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The digest recipients were saved."))
    return redirect("audit:events", seller_id=seller.pk)


@require_POST
@seller_view(services.SECURITY_MANAGE)
def retention(request, *, seller, membership):
    form = _retention_form(seller, membership, request.POST)
    if form.is_valid():
        try:
            services.set_retention(
                actor=request.user, seller=seller, retention_days=form.cleaned_data["retention_days"]
            )
        except InvalidInput as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The audit retention setting was saved."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("audit:events", seller_id=seller.pk)


def _export_refused(request, form, seller):
    context = {"form": form, "rows": [], "export_error": True, "seller_time_zone": seller.time_zone}
    return render(request, "audit/events.html", context, status=400)


@seller_view(AUDIT_VIEW)
def export(request, *, seller, membership):
    export_format = request.GET.get("format", "csv")
    form, filters = _filters(request, seller, membership)
    if filters is None:
        return _export_refused(request, form, seller)
    try:
        services.record_export(
            actor=request.user, seller=seller, export_format=export_format, filters=filters
        )
    except InvalidInput:
        return _export_refused(request, form, seller)
    return exports.export_response(seller, filters, export_format, oldest_first=False, for_spreadsheets=True)
