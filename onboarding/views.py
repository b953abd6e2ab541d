"""Dashboard pages of bulk onboarding. Thin: parse, call one service or selector, render."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from accounts.decorators import seller_view
from accounts.forms import apply_service_error
from ozonseat import spreadsheets
from ozonseat.errors import Conflict, InvalidInput
from roles import catalog

from . import files, selectors, services
from .forms import UploadForm
from .models import ImportStatus
from .preview import problem_text


@seller_view(catalog.MEMBERS_MANAGE)
@require_http_methods(["GET", "POST"])
def upload(request, *, seller, membership):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            member_import = services.upload_import(
                actor=request.user,
                seller=seller,
                file_name=uploaded.name,
                content=uploaded.read(services.preview.MAX_BYTES + 1),
            )
        except InvalidInput as error:
            apply_service_error(form, error)
        else:
            return redirect("onboarding:import", seller_id=seller.pk, import_id=member_import.pk)
    return render(
        request,
        "onboarding/upload.html",
        {"form": form, "imports": selectors.recent_imports(seller), "template_languages": settings.LANGUAGES},
    )


@seller_view(catalog.MEMBERS_MANAGE)
@require_safe
def template_file(request, *, seller, membership):
    language = request.GET.get("language") or request.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        language = "en"
    file_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    response = HttpResponse(
        files.as_file(files.template_rows(language), file_format),
        content_type=spreadsheets.CONTENT_TYPES[file_format],
    )
    response["Content-Disposition"] = f'attachment; filename="ozonseat-members-{language}.{file_format}"'
    return response


@seller_view(catalog.MEMBERS_MANAGE)
@require_http_methods(["GET", "POST"])
def member_import(request, import_id, *, seller, membership):
    """The preview (every row's problems; apply), then the progress (polled), then the result."""
    current = selectors.get_import_for_seller(seller, import_id)
    if request.method == "POST":
        try:
            services.apply_import(actor=request.user, member_import=current)
        except Conflict as error:
            messages.error(request, error.message)
        return redirect("onboarding:import", seller_id=seller.pk, import_id=current.pk)
    rows = list(selectors.rows_of(current))
    problem_rows = [(row, [problem_text(p) for p in row.problems]) for row in rows if row.problems]
    return render(
        request,
        "onboarding/import.html",
        {
            "current": current,
            "problem_rows": problem_rows,
            "ready_rows": [row for row in rows if not row.problems][:50],
            "counts": selectors.counts(current),
            "applying": current.status == ImportStatus.APPLYING,
            "preview": current.status == ImportStatus.PREVIEW,
        },
    )


@seller_view(catalog.MEMBERS_MANAGE)
@require_safe
def result_file(request, import_id, *, seller, membership):
    current = selectors.get_import_for_seller(seller, import_id)
    file_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    rows = files.result_rows(current, selectors.rows_of(current))
    response = HttpResponse(
        files.as_file(rows, file_format), content_type=spreadsheets.CONTENT_TYPES[file_format]
    )
    response["Content-Disposition"] = f'attachment; filename="import-{current.pk}-result.{file_format}"'
    response["Cache-Control"] = "no-store"
    return response
