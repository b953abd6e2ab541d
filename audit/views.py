"""The audit log in the dashboard: the viewer and the streamed export. Thin: parse, select, render."""

import csv
import json
import zoneinfo

from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.authorization import member_has_seller_permission
from accounts.decorators import seller_view
from ozonseat.errors import InvalidInput

from . import selectors, services
from .chain import format_timestamp
from .forms import EventFilterForm, RetentionForm
from .models import AuditPolicy

AUDIT_VIEW = services.AUDIT_VIEW


def _filters(request, seller):
    """(form, filters); filters is None when the form has errors: then nothing is shown or exported,
    rather than more than the viewer asked for."""
    form = EventFilterForm(
        request.GET or None, people=selectors.people_choices(seller), stores=selectors.store_choices(seller)
    )
    if not form.is_bound:
        return form, selectors.EventFilters()
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
    )
    return form, filters


@seller_view(AUDIT_VIEW)
def events(request, *, seller, membership):
    form, filters = _filters(request, seller)
    if filters is None:
        page = selectors.EventPage([], None)
    else:
        try:
            page = selectors.list_events(seller, filters, request.GET.get("cursor") or None)
        except InvalidInput:
            page = selectors.list_events(seller, filters)
    names = selectors.resolve_names(page.events)
    rows = [
        {
            "event": event,
            "label": selectors.action_label(event),
            "text": selectors.describe_event(event, names),
        }
        for event in page.events
    ]
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
            "retention_form": _retention_form(seller, membership),
        },
    )


def _retention_form(seller, membership, data=None):
    if not member_has_seller_permission(membership, services.SECURITY_MANAGE):
        return None
    policy = AuditPolicy.objects.filter(seller_id=seller.pk).first()
    return RetentionForm(data, initial={"retention_days": policy.retention_days if policy else None})


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


class _Echo:
    def write(self, value):
        return value


EXPORT_COLUMNS = (
    "id",
    "sequence",
    "created_at",
    "action",
    "description",
    "actor_user_id",
    "actor_token_id",
    "actor",
    "target_type",
    "target_id",
    "target",
    "store_id",
    "changes",
    "ip",
    "user_agent",
    "request_id",
    "previous_hash",
    "hash",
)


def _export_records(seller, filters):
    for batch in selectors.iter_event_batches(seller, filters):
        names = selectors.resolve_names(batch)
        for event in batch:
            yield {
                "id": event.pk,
                "sequence": event.sequence,
                "created_at": format_timestamp(event.created_at),
                "action": event.action,
                "description": selectors.describe_event(event, names),
                "actor_user_id": event.actor_user_id,
                "actor_token_id": event.actor_token_id,
                "actor": selectors.actor_name(event, names),
                "target_type": event.target_type,
                "target_id": event.target_id,
                "target": selectors.target_name(event, names),
                "store_id": event.store_id,
                "changes": event.changes,
                "ip": event.ip,
                "user_agent": event.user_agent,
                "request_id": event.request_id,
                "previous_hash": event.previous_hash,
                "hash": event.hash,
            }


def _csv_value(value):
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = "" if value is None else str(value)
    # Spreadsheets run cells that start like a formula; an audit export must not carry one.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_lines(records):
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(EXPORT_COLUMNS)
    for record in records:
        yield writer.writerow([_csv_value(record[column]) for column in EXPORT_COLUMNS])


def _jsonl_lines(records):
    for record in records:
        yield json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"


def _export_refused(request, form, seller):
    context = {"form": form, "rows": [], "export_error": True, "seller_time_zone": seller.time_zone}
    return render(request, "audit/events.html", context, status=400)


@seller_view(AUDIT_VIEW)
def export(request, *, seller, membership):
    export_format = request.GET.get("format", "csv")
    form, filters = _filters(request, seller)
    if filters is None:
        return _export_refused(request, form, seller)
    try:
        services.record_export(
            actor=request.user, seller=seller, export_format=export_format, filters=filters
        )
    except InvalidInput:
        return _export_refused(request, form, seller)
    records = _export_records(seller, filters)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    lines = _csv_lines(records) if export_format == "csv" else _jsonl_lines(records)
    response = StreamingHttpResponse(lines, content_type=services.EXPORT_CONTENT_TYPES[export_format])
    response["Content-Disposition"] = f'attachment; filename="audit-{seller.pk}-{stamp}.{export_format}"'
    response["Cache-Control"] = "no-store"
    return response
