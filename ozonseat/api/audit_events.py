"""The seller's audit log: the viewer's filters, cursor pagination, and CSV / JSON Lines export. The events
come from audit.selectors, as the dashboard viewer's do: same filters, same keyset pages, same seller."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.utils.urls import replace_query_param

from accounts import selectors as account_selectors
from audit import exports, selectors, services
from audit.describe import describe_events
from ozonseat.errors import InvalidInput
from roles.visibility import audit_event_reach

from .schema import needs
from .serializers import SellerObjectIdField, StrictSerializer
from .views import SellerView

AUDIT_VIEW = services.AUDIT_VIEW


class DetailSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The key of `changes` this line describes.")
    label = serializers.CharField(help_text="What the field is called, in the response's language.")
    old = serializers.CharField(help_text="The value before, as text; empty when there was none.")
    new = serializers.CharField(help_text="The value after, as text.")


class AuditEventSerializer(serializers.Serializer):
    """An event as audit.describe describes it (the stored event is its `event`), with the fields of the
    export's rows, in the same order."""

    id = serializers.IntegerField(source="event.id")
    sequence = serializers.IntegerField(source="event.sequence")
    created_at = serializers.DateTimeField(source="event.created_at")
    action = serializers.CharField(source="event.action")
    label = serializers.CharField(help_text="The action, in the response's language (Accept-Language).")
    description = serializers.CharField(
        source="text",
        help_text="What happened, as a sentence in the response's language, naming the people and things "
        "involved as they are called now (or as deleted).",
    )
    details = DetailSerializer(
        many=True, help_text="Each change of `changes`, as a line in the response's language."
    )
    actor_user_id = serializers.IntegerField(source="event.actor_user_id", allow_null=True)
    actor_token_id = serializers.IntegerField(source="event.actor_token_id", allow_null=True)
    actor = serializers.CharField(help_text="Who did it, by name; empty when OzonSeat itself did.")
    target_type = serializers.CharField(source="event.target_type")
    target_id = serializers.IntegerField(source="event.target_id", allow_null=True)
    target = serializers.CharField(help_text="What it was done to, by name.")
    store_id = serializers.IntegerField(
        source="event.store_id",
        allow_null=True,
        help_text="The store the event concerns (the store itself, one of its warehouses, or a change made "
        "on it), as the `store` filter finds it; null when none.",
    )
    changes = serializers.JSONField(source="event.changes", help_text="{field: [old, new]} as recorded.")
    ip = serializers.IPAddressField(source="event.shown_ip", allow_null=True)
    user_agent = serializers.CharField(source="event.shown_user_agent")
    request_id = serializers.CharField(source="event.request_id")
    previous_hash = serializers.CharField(source="event.previous_hash")
    hash = serializers.CharField(source="event.hash")


class EventFilterSerializer(StrictSerializer):
    action = serializers.CharField(
        required=False, max_length=64, help_text="Events of this action, e.g. member.suspended."
    )
    actor = SellerObjectIdField(
        account_selectors.is_person_of_seller,
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

    def paginate_events(self, request, seller, filters: dict, reach=None) -> list:
        self.base_url = request.build_absolute_uri()
        try:
            self.page = selectors.list_events(
                seller,
                event_filters(filters, reach),
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


def event_filters(filters: dict, reach=None) -> selectors.EventFilters:
    """The API's query parameters as the viewer's filters; `reach`: where the reader may read (None: the
    whole log; roles.visibility.audit_event_reach)."""
    return selectors.EventFilters(
        reach=reach,
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
        "with the dashboard viewer's filters. Each event comes as stored (ids, `changes`) and described "
        "in the language of `Accept-Language`: `label`, `description` and `details`. "
        f"{needs(AUDIT_VIEW)}",
    )
    def get(self, request, seller_id):
        events = self.paginator.paginate_events(
            request,
            self.seller,
            _filters(request, self.seller, AuditFilterSerializer),
            audit_event_reach(self.seller, self.membership),
        )
        described = describe_events(events, time_zone=self.seller.time_zone)
        return self.get_paginated_response(AuditEventSerializer(described, many=True).data)


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
        "`page_size`. Each row holds the stored event, its hash chain (`previous_hash`, `hash`) and its "
        "description in the language of `Accept-Language` (`label`, `description`, `details`, `actor`, "
        "`target`). The export itself is recorded in the audit log (`audit.exported`, with the format "
        f"and the filters) before the first row. {needs(AUDIT_VIEW)}",
    )
    def get(self, request, seller_id):
        filters = _filters(request, self.seller, ExportFilterSerializer)
        export_format = filters.pop("format")
        filters = event_filters(filters, audit_event_reach(self.seller, self.membership))
        # Recorded (and committed) before the first row is sent, as the dashboard's export is.
        services.record_export(
            actor=self.actor,
            seller=self.seller,
            export_format=export_format,
            filters=filters,
            token=self.token,
        )
        return exports.export_response(
            self.seller, filters, export_format, oldest_first=True, for_spreadsheets=False
        )

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)
