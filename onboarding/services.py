"""Bulk onboarding: upload (parse and check every row: the preview), apply (queue the invitations), and
the task's steps. Every invitation goes through the same service as the "add sub-account" form
(roles.invitations.invite_member_with_roles), so every rule and audit event of one invitation applies."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.authorization import require_seller_permission
from accounts.cleaning import clean_name
from audit import events
from audit.services import record_event
from ozonseat import spreadsheets
from ozonseat.errors import Conflict, InvalidInput, NotAllowed, NotFound
from roles import catalog
from roles.invitations import invite_member_with_roles

from . import preview, tasks
from .models import ImportRow, ImportStatus, MemberImport, RowState


def upload_import(*, actor, seller, file_name: str, content: bytes) -> MemberImport:
    """Read a CSV or XLSX file and check every row against the seller and what the uploader may give.
    Nothing is invited: the import waits in preview until applied."""
    actor_membership = require_seller_permission(
        actor=actor, seller=seller, permission=catalog.MEMBERS_MANAGE
    )
    file_name = clean_name(file_name or "import", field="file", max_length=255)
    if len(content) > preview.MAX_BYTES:
        raise InvalidInput(field="file", message=_("The file is larger than 2 MB."))
    try:
        rows = preview.parse_rows(spreadsheets.read_rows(content, file_name))
    except ValueError:
        raise InvalidInput(
            field="file",
            message=_(
                "This is not a CSV or XLSX file with a header row (e-mail, name, language, role, scope, "
                "end date). Start from the template."
            ),
        ) from None
    if not rows:
        raise InvalidInput(field="file", message=_("The file has no rows under its header."))
    if len(rows) > preview.MAX_ROWS:
        raise InvalidInput(
            field="file", message=_("At most %(count)s rows per file.") % {"count": preview.MAX_ROWS}
        )
    context = preview.Context.load(seller=seller, actor_membership=actor_membership)
    checked = []
    for row in rows:
        problems, clean = preview.check_row(context, row.values, row.number)
        checked.append(
            ImportRow(
                number=row.number,
                **{
                    column: row.values[column][:500]
                    for column in ("email", "name", "language", "role", "ends_on")
                },
                scope=row.values["scope"][:2000],
                problems=problems,
                **clean,
            )
        )
    with transaction.atomic():
        member_import = MemberImport.objects.create(
            seller=seller,
            uploaded_by=actor,
            file_name=file_name,
            total_rows=len(checked),
            ready_rows=sum(1 for row in checked if not row.problems),
        )
        for row in checked:
            row.member_import = member_import
        ImportRow.objects.bulk_create(checked, batch_size=500)
    return member_import


def file_digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def apply_import(*, actor, member_import) -> MemberImport:
    """Invite every row without problems, in a Celery task (rows with problems are skipped: fix them and
    upload again). Recorded as one `members.imported` event; each invitation records its own."""
    seller = member_import.seller
    require_seller_permission(actor=actor, seller=seller, permission=catalog.MEMBERS_MANAGE)
    with transaction.atomic():
        member_import = MemberImport.objects.select_for_update().get(pk=member_import.pk)
        if member_import.status != ImportStatus.PREVIEW:
            raise Conflict(_("This import was already applied."), code="applied")
        rows = member_import.rows.all()
        rows.exclude(problems=[]).update(state=RowState.SKIPPED)
        now = timezone.now()
        member_import.status = ImportStatus.APPLYING
        member_import.applied_by = actor
        member_import.applied_at = member_import.heartbeat_at = now
        member_import.save(update_fields=["status", "applied_by", "applied_at", "heartbeat_at"])
        record_event(
            action=events.MEMBERS_IMPORTED,
            seller=seller,
            actor=actor,
            target=member_import,
            changes={
                "import_rows": [None, member_import.total_rows],
                "import_ready_rows": [None, member_import.ready_rows],
            },
        )
        pk = member_import.pk
        transaction.on_commit(lambda: tasks.publish_import(pk))
    return member_import


def invite_row(*, row_id: int) -> str:
    """Invite one pending row, as the member who applied the import. The row is locked and its state
    saved in the invitation's transaction: run twice (a retry, a second worker, a resumed import), a row
    is invited once. A refusal (the address became a member meanwhile, the applier lost a permission) is
    the row's outcome, in the applier's language."""
    with transaction.atomic():
        row = (
            ImportRow.objects.select_for_update(of=("self",))
            .select_related("member_import__seller", "member_import__applied_by")
            .filter(pk=row_id)
            .first()
        )
        if row is None or row.state != RowState.PENDING:
            return row.state if row else ""
        member_import = row.member_import
        actor = member_import.applied_by
        grants = []
        if row.role_id:
            grants.append(
                {
                    "role_id": row.role_id,
                    "scope_kind": row.scope_kind,
                    "market": row.market or None,
                    "stores": row.store_ids,
                    "warehouses": row.warehouse_ids,
                }
            )
        try:
            with transaction.atomic():
                membership = invite_member_with_roles(
                    actor=actor,
                    seller=member_import.seller,
                    email=row.clean_email,
                    display_name=row.name,
                    language=row.language_code,
                    ends_at=row.ends_at,
                    grants=grants,
                )
        except (InvalidInput, Conflict, NotAllowed, NotFound) as error:
            with translation.override(actor.preferred_language or member_import.seller.default_language):
                row.outcome = str(error.message)[:500]
            row.state = RowState.FAILED
        else:
            row.membership = membership
            row.state = RowState.INVITED
        row.save(update_fields=["state", "membership", "outcome"])
        MemberImport.objects.filter(pk=member_import.pk).update(
            processed_rows=F("processed_rows") + 1, heartbeat_at=timezone.now()
        )
        return row.state


def run_import(*, import_id: int) -> int:
    """Invite every pending row of an applying import, then mark it done. Safe to run again at any point."""
    member_import = MemberImport.objects.filter(pk=import_id, status=ImportStatus.APPLYING).first()
    if member_import is None:
        return 0
    invited = 0
    for row_id in member_import.rows.filter(state=RowState.PENDING).values_list("pk", flat=True):
        invited += invite_row(row_id=row_id) == RowState.INVITED
    with transaction.atomic():
        member_import = MemberImport.objects.select_for_update().get(pk=import_id)
        if (
            member_import.status == ImportStatus.APPLYING
            and not member_import.rows.filter(state=RowState.PENDING).exists()
        ):
            member_import.status = ImportStatus.DONE
            member_import.finished_at = timezone.now()
            member_import.save(update_fields=["status", "finished_at"])
    return invited


def stalled_imports(*, now=None):
    """Applying imports whose task stopped (a worker killed, a message lost): no row done for a while."""
    now = now or timezone.now()
    after = timedelta(seconds=settings.ONBOARDING_RESUME_AFTER_SECONDS)
    return MemberImport.objects.filter(status=ImportStatus.APPLYING, heartbeat_at__lt=now - after)
