"""The seller's audit log: the viewer's filters, cursor pagination, and CSV / JSON Lines export. The events
come from audit.selectors, as the dashboard viewer's do: same filters, same keyset pages, same seller."""

import csv
import json

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.utils.urls import replace_query_param

from audit import selectors, services
from ozonseat.errors import InvalidInput

from .schema import needs
from .serializers import SellerObjectIdField, StrictSerializer
from .views import SellerView

AUDIT_VIEW = services.AUDIT_VIEW
EXPORT_FIELDS = (
    "id",
    "sequence",
    "created_at",
    "action",
    "actor_user_id",
    "actor_token_id",
    "target_type",
    "target_id",
    "store_id",
    "changes",
    "ip",
    "user_agent",
    "request_id",
    "hash",
)


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    actor_user_id = serializers.IntegerField(allow_null=True)
    actor_token_id = serializers.IntegerField(allow_null=True)
    target_type = serializers.CharField()
    target_id = serializers.IntegerField(allow_null=True)
    store_id = serializers.IntegerField(
        allow_null=True,
        help_text="The store the event concerns (the store itself, one of its warehouses, or a change made "
        "on it), as the `store` filter finds it; null when none.",
    )
    changes = serializers.JSONField()
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    request_id = serializers.CharField()
    hash = serializers.CharField()


class EventFilterSerializer(StrictSerializer):
    action = serializers.CharField(
        required=False, max_length=64, help_text="Events of this action, e.g. member.suspended."
    )
    actor = SellerObjectIdField(
        selectors.is_person_of_seller,
        required=False,
        help_text="Events done by this user (id): anyone who is or was a member of the seller; another "
        "seller's user or an unknown id answers 400.",
    )
    target_type = serializers.CharField(
        required=False, max_length=40, help_text="Events about this kind of object, e.g. membership, role."
    )
    target_id = serializers.IntegerField(
        required=False, min_value=1, help_text="Events about the object with this id (with target_type)."
    )
    store = SellerObjectIdField(
        selectors.is_store_of_seller,
        required=False,
        help_text="Events concerning this store (id): the store itself, its warehouses, and changes made "
        "on it. Any of the seller's stores, deactivated ones too; another seller's or an unknown id "
        "answers 400.",
    )
    since = serializers.DateTimeField(
        required=False, help_text="Events at or after this time (ISO 8601; without an offset, UTC)."
    )
    until = serializers.DateTimeField(required=False, help_text="Events before this time.")


class AuditFilterSerializer(EventFilterSerializer):
    cursor = serializers.CharField(
        required=False, max_length=200, help_text="A page position, from a `next` or `previous` link."
    )
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=500, help_text="Events per page (default 100)."
    )


class ExportFilterSerializer(EventFilterSerializer):
    # The filters and the format; no cursor or page size: an export has no pages (sent anyway, they are
    # refused as unknown fields, as every operation taking query parameters refuses one it does not know).
    format = serializers.ChoiceField(
        choices=list(services.EXPORT_FORMATS),
        default="jsonl",
        help_text="CSV, or JSON Lines (one event a line).",
    )


class AuditPagination(CursorPagination):
    """DRF's cursor-pagination response (`next`, `previous`, `results`; documented in the schema as such)
    around the viewer's keyset pages: the links carry audit.selectors cursors."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_events(self, request, seller, filters: dict) -> list:
        self.base_url = request.build_absolute_uri()
        try:
            self.page = selectors.list_events(
                seller,
                event_filters(filters),
                filters.get("cursor"),
                page_size=filters.get("page_size") or self.page_size,
            )
        except InvalidInput:
            raise NotFound(self.invalid_cursor_message) from None
        return self.page.events

    def _link(self, cursor):
        return replace_query_param(self.base_url, self.cursor_query_param, cursor) if cursor else None

    def get_next_link(self):
        return self._link(self.page.next_cursor)

    def get_previous_link(self):
        return self._link(self.page.previous_cursor)


def event_filters(filters: dict) -> selectors.EventFilters:
    """The API's query parameters as the viewer's filters."""
    return selectors.EventFilters(
        actor_id=filters.get("actor"),
        action=filters.get("action", ""),
        target_type=filters.get("target_type", ""),
        target_id=filters.get("target_id"),
        store_id=filters.get("store"),
        since=filters.get("since"),
        until=filters.get("until"),
    )


def _filters(request, seller, serializer_class):
    data = serializer_class(data=request.query_params.dict(), context={"seller": seller})
    data.is_valid(raise_exception=True)
    return data.validated_data


class AuditEventListView(SellerView):
    permission = AUDIT_VIEW
    pagination_class = AuditPagination

    @extend_schema(
        operation_id="audit_events_list",
        parameters=[AuditFilterSerializer],
        responses=AuditEventSerializer(many=True),
        summary="List audit events, newest first",
        description="The seller's audit log, newest first, in cursor pages (follow `next` and `previous`), "
        f"with the dashboard viewer's filters. {needs(AUDIT_VIEW)}",
    )
    def get(self, request, seller_id):
        events = self.paginator.paginate_events(
            request, self.seller, _filters(request, self.seller, AuditFilterSerializer)
        )
        return self.get_paginated_response(AuditEventSerializer(events, many=True).data)


class _Echo:
    def write(self, value):
        return value


def _values(seller, filters: selectors.EventFilters):
    for batch in selectors.iter_event_batches(seller, filters, oldest_first=True):
        for event in batch:
            values = {name: getattr(event, name) for name in EXPORT_FIELDS}
            values["created_at"] = values["created_at"].isoformat()
            yield values


def _rows(events, export_format):
    if export_format == "csv":
        writer = csv.writer(_Echo())
        yield writer.writerow(EXPORT_FIELDS)
        for values in events:
            values["changes"] = json.dumps(values["changes"], ensure_ascii=False, sort_keys=True)
            yield writer.writerow([_csv_safe(values[name]) for name in EXPORT_FIELDS])
    else:
        for values in events:
            yield json.dumps(values, ensure_ascii=False, default=str) + "\n"


def _csv_safe(value):
    # A cell starting with = + - @ is a formula to spreadsheet programs: neutralise it.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


class AuditEventExportView(SellerView):
    permission = AUDIT_VIEW

    @extend_schema(
        operation_id="audit_events_export",
        parameters=[ExportFilterSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="CSV, one event a row, oldest first"
            ),
            (200, "application/jsonl"): OpenApiResponse(
                OpenApiTypes.STR, description="JSON Lines, one event a line, oldest first"
            ),
        },
        summary="Export audit events",
        description="Every matching event, oldest first, streamed as CSV (`text/csv`) or JSON Lines "
        "(`application/jsonl`), with the list's filters; an export has no pages, so no `cursor` or "
        "`page_size`. The export itself is recorded in the audit log (`audit.exported`, with the format "
        f"and the filters) before the first row. {needs(AUDIT_VIEW)}",
    )
    def get(self, request, seller_id):
        filters = _filters(request, self.seller, ExportFilterSerializer)
        export_format = filters.pop("format")
        filters = event_filters(filters)
        # Recorded (and committed) before the first row is sent, as the dashboard's export is.
        services.record_export(
            actor=self.actor,
            seller=self.seller,
            export_format=export_format,
            filters=filters,
            token=self.token,
        )
        response = StreamingHttpResponse(
            _rows(_values(self.seller, filters), export_format),
            content_type=services.EXPORT_CONTENT_TYPES[export_format],
        )
        response["Content-Disposition"] = f'attachment; filename="audit-{self.seller.pk}.{export_format}"'
        response["Cache-Control"] = "no-store"  # the audit log must not linger in proxies or browser caches
        return response

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)
