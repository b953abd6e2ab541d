"""The seller's audit log: the viewer's filters, cursor pagination, and CSV / JSON Lines export."""

import csv
import json

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import CursorPagination

from audit.models import AuditEvent

from .serializers import StrictSerializer
from .views import SellerView

AUDIT_VIEW = "audit.view"
EXPORT_FIELDS = (
    "id",
    "sequence",
    "created_at",
    "action",
    "actor_user_id",
    "actor_token_id",
    "target_type",
    "target_id",
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
    changes = serializers.JSONField()
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    request_id = serializers.CharField()
    hash = serializers.CharField()


class AuditFilterSerializer(StrictSerializer):
    action = serializers.CharField(required=False, max_length=64)
    actor = serializers.IntegerField(required=False, min_value=1, help_text="Acting user id.")
    target_type = serializers.CharField(required=False, max_length=40)
    target_id = serializers.IntegerField(required=False, min_value=1)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    cursor = serializers.CharField(required=False, max_length=200)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)


class ExportFilterSerializer(AuditFilterSerializer):
    format = serializers.ChoiceField(choices=["csv", "jsonl"], default="jsonl")


class AuditPagination(CursorPagination):
    ordering = "-id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


def filtered_events(seller, filters: dict):
    queryset = AuditEvent.objects.filter(seller_id=seller.pk)
    if filters.get("action"):
        queryset = queryset.filter(action=filters["action"])
    if filters.get("actor"):
        queryset = queryset.filter(actor_user_id=filters["actor"])
    if filters.get("target_type"):
        queryset = queryset.filter(target_type=filters["target_type"])
    if filters.get("target_id"):
        queryset = queryset.filter(target_id=filters["target_id"])
    if filters.get("since"):
        queryset = queryset.filter(created_at__gte=filters["since"])
    if filters.get("until"):
        queryset = queryset.filter(created_at__lt=filters["until"])
    return queryset


def _filters(request, serializer_class):
    data = serializer_class(data=request.query_params.dict())
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
    )
    def get(self, request, seller_id):
        queryset = filtered_events(self.seller, _filters(request, AuditFilterSerializer))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)


class _Echo:
    def write(self, value):
        return value


def _rows(queryset, export_format):
    events = queryset.order_by("id").values_list(*EXPORT_FIELDS).iterator(chunk_size=1000)
    if export_format == "csv":
        writer = csv.writer(_Echo())
        yield writer.writerow(EXPORT_FIELDS)
        for row in events:
            values = dict(zip(EXPORT_FIELDS, row, strict=True))
            values["created_at"] = values["created_at"].isoformat()
            values["changes"] = json.dumps(values["changes"], ensure_ascii=False, sort_keys=True)
            yield writer.writerow([_csv_safe(values[name]) for name in EXPORT_FIELDS])
    else:
        for row in events:
            values = dict(zip(EXPORT_FIELDS, row, strict=True))
            values["created_at"] = values["created_at"].isoformat()
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
    )
    def get(self, request, seller_id):
        filters = _filters(request, ExportFilterSerializer)
        filters.pop("cursor", None)
        export_format = filters.pop("format")
        content_type = (
            "text/csv; charset=utf-8" if export_format == "csv" else "application/jsonl; charset=utf-8"
        )
        response = StreamingHttpResponse(
            _rows(filtered_events(self.seller, filters), export_format), content_type=content_type
        )
        response["Content-Disposition"] = f'attachment; filename="audit-{self.seller.pk}.{export_format}"'
        return response

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)
