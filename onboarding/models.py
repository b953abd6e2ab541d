"""A spreadsheet of people to invite (an import) and its rows: what each row said, what is wrong with it,
and — once applied — what became of it. A row's state is committed with its invitation, so an import
interrupted anywhere resumes without inviting anyone twice."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportStatus(models.TextChoices):
    PREVIEW = "preview", _("Preview")
    APPLYING = "applying", _("Inviting")
    DONE = "done", _("Done")


class RowState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    INVITED = "invited", _("Invited")
    FAILED = "failed", _("Not invited")
    SKIPPED = "skipped", _("Skipped: has problems")


class MemberImport(models.Model):
    seller = models.ForeignKey("accounts.Seller", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEW)
    total_rows = models.PositiveIntegerField(default=0)
    ready_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    # Touched after every row: an applying import whose heartbeat stopped is resumed by the beat.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["seller", "-created_at"]), models.Index(fields=["status"])]

    def __str__(self):
        return self.file_name

    @property
    def percent(self) -> int:
        return 100 if not self.ready_rows else min(100, round(100 * self.processed_rows / self.ready_rows))


class ImportRow(models.Model):
    member_import = models.ForeignKey(MemberImport, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField()  # the line in the file (the header is line 1)
    # As written in the file.
    email = models.CharField(max_length=500, blank=True)
    name = models.CharField(max_length=500, blank=True)
    language = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=500, blank=True)
    scope = models.CharField(max_length=2000, blank=True)
    ends_on = models.CharField(max_length=100, blank=True)
    # What is wrong with it: [{"code": ..., "params": {...}}], worded in the reader's language when shown.
    problems = models.JSONField(default=list)
    # As the invitation will use it (when there is no problem).
    clean_email = models.CharField(max_length=254, blank=True)
    language_code = models.CharField(max_length=10, blank=True)
    role_id = models.BigIntegerField(null=True, blank=True)
    scope_kind = models.CharField(max_length=10, blank=True)
    market = models.CharField(max_length=2, blank=True)
    store_ids = models.JSONField(default=list)
    warehouse_ids = models.JSONField(default=list)
    ends_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=RowState.choices, default=RowState.PENDING)
    membership = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=500, blank=True)  # why it was not invited, when applied

    class Meta:
        default_permissions = ()
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["member_import", "number"], name="onboarding_row_number_unique")
        ]

    def __str__(self):
        return f"{self.member_import_id}:{self.number}"
