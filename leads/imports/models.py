"""An import job (one uploaded file) and the rows it could not import."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone

from common.tenancy import OrgOwnedModel


def import_file_path(instance: "ImportJob", filename: str) -> str:
    # The stored name is ours; the uploader's file name is only kept as data.
    suffix = PurePath(filename).suffix.lower()[:8]
    safe_suffix = suffix if suffix[1:].isalnum() else ""
    return f"imports/{instance.org_id}/{uuid.uuid4().hex}{safe_suffix}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCESS = "success", "Success"
    FAILED = "failed", "Failed"


class FileKind(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class OnDuplicate(models.TextChoices):
    SKIP = "skip", "Skip"
    UPDATE = "update", "Update"


class ImportJob(OrgOwnedModel):
    """One uploaded file and its progress. The counters and `rows_done` are the checkpoint:
    they are saved in the same transaction as the leads of each chunk."""

    CHECKPOINT_FIELDS = (
        "rows_done",
        "imported_count",
        "updated_count",
        "failed_count",
        "duplicate_count",
    )

    status = models.CharField(
        max_length=8, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    dry_run = models.BooleanField(default=False)
    file = models.FileField(upload_to=import_file_path, max_length=255)
    file_name = models.CharField(max_length=255, blank=True)
    file_kind = models.CharField(max_length=4, choices=FileKind.choices, default=FileKind.CSV)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    imported_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    # Rows whose e-mail matched an existing lead, which they updated (on_duplicate=update).
    updated_count = models.PositiveIntegerField(default=0)
    # How the upload asked for the file to be read: {file header: lead field}, applied
    # before the synonyms; and what a row with an existing lead's e-mail does.
    mapping = models.JSONField(default=dict, blank=True)
    on_duplicate = models.CharField(
        max_length=6, choices=OnDuplicate.choices, default=OnDuplicate.SKIP
    )
    # Why the file as a whole failed (status `failed`).
    failure_reason = models.TextField(blank=True)
    headers = models.JSONField(default=list, blank=True)
    unknown_columns = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_on = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_on = models.DateTimeField(auto_now=True)
    # Self-healing (leads.imports.healing): who runs the job and whether it is alive.
    # `claim` is the id of the task delivery running it (a redelivery or retry of the same
    # message carries the same id and resumes at once); `heartbeat_at` is refreshed while it
    # runs, and a job whose heartbeat stops is handed back to the queue by the sweep.
    claim = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Set when the worker running the job shuts down: it stops at the next chunk boundary.
    stop_requested = models.BooleanField(default=False)
    # Fair scheduling: since when the job waits for a turn, and when it last got one.
    waiting_since = models.DateTimeField(null=True, blank=True)
    turn_at = models.DateTimeField(null=True, blank=True)
    # When its task was last handed to the outbox (the sweep re-sends lost messages).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # Database errors retried in a row, and the last one (cleared by the next chunk).
    retries = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["org", "-created_on"], name="importjob_org_created_idx"),
            models.Index(fields=["org", "status", "updated_on"], name="importjob_status_idx"),
        ]

    def __str__(self):
        return f"Import {self.file_name or self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {ImportStatus.SUCCESS, ImportStatus.FAILED}

    @property
    def health(self) -> str:
        """`stalled`: claimed by a worker whose heartbeat stopped (the sweep will re-queue
        it); `retrying`: its last attempt met a database error and is retried; else `ok`."""
        if self.is_finished:
            return "ok"
        if self.claim and self.heartbeat_at is not None:
            age = (timezone.now() - self.heartbeat_at).total_seconds()
            if age > settings.IMPORT_STALL_SECONDS:
                return "stalled"
        return "retrying" if self.retries else "ok"


class IssueKind(models.TextChoices):
    ERROR = "error", "Error"
    DUPLICATE = "duplicate", "Duplicate"


class ImportIssue(OrgOwnedModel):
    """A data row that was not imported: invalid (with the original cells, for the error
    CSV) or a duplicate (with the lead it duplicates, when that lead exists)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    kind = models.CharField(max_length=9, choices=IssueKind.choices, default=IssueKind.ERROR)
    # The row as a spreadsheet shows it: the header is row 1, the first data row is row 2.
    row = models.PositiveIntegerField(default=2)
    field = models.CharField(max_length=64, blank=True)
    message = models.TextField(default="")
    values = models.JSONField(default=list, blank=True)
    existing_lead_id = models.UUIDField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["org", "job", "kind", "row"], name="importissue_job_idx")]
