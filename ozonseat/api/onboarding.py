"""Bulk onboarding through the API: upload a CSV or XLSX file (base64 in JSON) and read the preview, apply
it, follow its progress. The same onboarding services as the dashboard."""

import base64
import binascii

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from onboarding import selectors as onboarding_selectors
from onboarding import services as onboarding_services
from onboarding.preview import problem_text
from roles import catalog

from .schema import needs
from .serializers import StrictSerializer
from .views import SellerView


class UploadSerializer(StrictSerializer):
    file_name = serializers.CharField(max_length=255, help_text="Ends in .csv or .xlsx.")
    content_base64 = serializers.CharField(help_text="The file, base64-encoded (the body is at most 1 MB).")


class ImportRowSerializer(serializers.Serializer):
    line = serializers.IntegerField(source="number")
    email = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()
    scope = serializers.CharField()
    problems = serializers.SerializerMethodField(
        help_text="In the caller's language; empty: ready to invite."
    )
    state = serializers.CharField(
        help_text="pending, invited, failed (see outcome) or skipped (had problems)."
    )
    outcome = serializers.CharField()
    member_id = serializers.IntegerField(source="membership_id", allow_null=True)

    def get_problems(self, row) -> list[str]:
        return [problem_text(problem) for problem in row.problems]


class ImportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    file_name = serializers.CharField()
    status = serializers.CharField(help_text="preview, applying or done.")
    total_rows = serializers.IntegerField()
    ready_rows = serializers.IntegerField()
    processed_rows = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    applied_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    rows = serializers.SerializerMethodField()

    def get_rows(self, member_import) -> ImportRowSerializer(many=True):
        return ImportRowSerializer(onboarding_selectors.rows_of(member_import), many=True).data


class ImportListView(SellerView):
    permission = catalog.MEMBERS_MANAGE

    @extend_schema(
        operation_id="member_imports_upload",
        request=UploadSerializer,
        responses={201: ImportSerializer},
        summary="Upload a spreadsheet of people to invite",
        description="Columns (a header row in English, Russian or Chinese): e-mail, name, language, role, "
        "scope (store, market or warehouse names; `*` for the whole seller), end date. Nobody is invited: "
        "the answer lists every row's problems, in the caller's language. Apply it to invite the rows "
        f"without problems. {needs(catalog.MEMBERS_MANAGE)}",
    )
    def post(self, request, seller_id):
        serializer = UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            content = base64.b64decode(serializer.validated_data["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError({"content_base64": ["Not base64."]}) from None
        member_import = onboarding_services.upload_import(
            actor=self.actor,
            seller=self.seller,
            file_name=serializer.validated_data["file_name"],
            content=content,
        )
        return Response(ImportSerializer(member_import).data, status=status.HTTP_201_CREATED)


class ImportDetailView(SellerView):
    permission = catalog.MEMBERS_MANAGE

    @extend_schema(
        operation_id="member_imports_read",
        responses=ImportSerializer,
        summary="An import: its preview, progress and result",
        description=f"Poll it while `status` is applying. {needs(catalog.MEMBERS_MANAGE)}",
    )
    def get(self, request, seller_id, import_id):
        member_import = onboarding_selectors.get_import_for_seller(self.seller, import_id)
        return Response(ImportSerializer(member_import).data)


class ImportApplyView(SellerView):
    permission = catalog.MEMBERS_MANAGE

    @extend_schema(
        operation_id="member_imports_apply",
        request=None,
        responses={202: ImportSerializer},
        summary="Invite the rows without problems",
        description="Runs in the background; each row is invited once, however often this is retried. "
        f"Applying twice answers 409. {needs(catalog.MEMBERS_MANAGE)}",
    )
    def post(self, request, seller_id, import_id):
        member_import = onboarding_selectors.get_import_for_seller(self.seller, import_id)
        member_import = onboarding_services.apply_import(actor=self.actor, member_import=member_import)
        member_import.refresh_from_db()
        return Response(ImportSerializer(member_import).data, status=status.HTTP_202_ACCEPTED)
