"""Bulk lead import: accept a file (`import_job_create`) and process it (`import_job_run`).

The pipeline is parse -> normalise -> validate -> write, chunk by chunk. Each chunk's
leads and the job's checkpoint (rows done, counts) commit together, so the task can be
killed at any point and run again: it resumes after the last committed chunk.
"""

from __future__ import annotations

import gc
import itertools
import logging
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from changelog.services import EventData, events_record
from common.errors import InvalidInput, TooLarge
from common.models import Membership, Organization, User
from leads.imports import parse
from leads.imports.healing import (
    Heartbeat,
    JobPaused,
    job_claim,
    job_enqueue,
    job_requeue,
    pause_reason,
)
from leads.imports.models import (
    FileKind,
    ImportIssue,
    ImportJob,
    ImportStatus,
    IssueKind,
    OnDuplicate,
)
from leads.imports.normalise import map_columns
from leads.imports.pipeline import chunk_writer
from leads.imports.validate import RowValidator
from leads.imports.write import ChunkInput, JobSuperseded, import_change

logger = logging.getLogger(__name__)


def import_job_create(
    *,
    org: Organization,
    by: User | None,
    upload: UploadedFile,
    dry_run: bool = False,
    mapping: dict[str, str] | None = None,
    on_duplicate: str = OnDuplicate.SKIP,
) -> ImportJob:
    """Check the upload (size, kind, zip bomb), store it and queue its processing.
    `mapping` ({file header: lead field}, checked by the caller with
    `normalise.check_mapping`) wins over the header synonyms; `on_duplicate="update"`
    makes a row with an existing lead's e-mail update that lead."""
    if upload.size is not None and upload.size > settings.IMPORT_MAX_FILE_BYTES:
        raise TooLarge(f"The file is larger than {settings.IMPORT_MAX_FILE_BYTES} bytes; split it.")
    try:
        kind = parse.detect_kind(parse.read_head(upload.file), upload.name or "")
        if kind == FileKind.XLSX:
            upload.file.seek(0)
            parse.check_xlsx_archive(upload.file)
            upload.file.seek(0)
    except parse.UnreadableFile as exc:
        raise InvalidInput(fields={"leads_file": [str(exc)]}) from exc

    job = ImportJob(
        org=org,
        created_by=by,
        dry_run=dry_run,
        mapping=mapping or {},
        on_duplicate=on_duplicate,
        file_name=(upload.name or "")[:255],
        file_kind=kind,
        waiting_since=timezone.now(),
    )
    job.file.save(upload.name or f"import.{kind}", upload, save=False)
    try:
        with transaction.atomic():
            job.save()
            # The task is an outbox row of this transaction: the job cannot stay queued
            # with no message, whatever happens to the broker or this process.
            job_enqueue(job=job)
    except BaseException:
        job.file.delete(save=False)  # a job that was not created leaves no file behind
        raise
    return job


def import_job_run(*, job_id, delivery: str | None = None, worker: str = "") -> ImportJob | None:
    """Process a job to its end, from its checkpoint. Safe to call again at any time.

    `delivery` is the task message's id (None for a direct call): see healing.job_claim,
    which may pick another organization's job whose turn it is. Database errors propagate
    (the task retries them); any other crash fails the job rather than leaving it running."""
    job = job_claim(job_id=job_id, delivery=delivery, worker=worker)
    if job is None or job.is_finished:
        return job
    # The process's long-lived objects (Django, openpyxl, metadata) are set aside from the
    # cyclic collector while the job runs, so the collections that millions of short-lived
    # row objects trigger do not rescan them every time (measured: a quarter faster).
    gc.collect()
    gc.freeze()
    try:
        with Heartbeat(job):
            return _run(job)
    except JobSuperseded:
        logger.info("Import %s: another delivery of the task is processing it.", job.pk)
        return None
    except JobPaused as pause:
        job_requeue(job_id=job.pk, reason=str(pause))
        return _jobs_get(job.pk)
    except parse.UnreadableFile as exc:
        return _finish(job, ImportStatus.FAILED, reason=str(exc))
    except (OperationalError, InterfaceError):
        raise  # the database is unreachable: retried, never taken as the job's end
    except Exception:  # a job must never stay `running` after a crash
        logger.exception("Import %s crashed.", job.pk)
        return _finish(
            job, ImportStatus.FAILED, reason="The file could not be processed (internal error)."
        )
    finally:
        gc.unfreeze()


def _jobs_get(job_id) -> ImportJob:
    return ImportJob.objects.unscoped().get(pk=job_id)


def _run(job: ImportJob) -> ImportJob:
    path = Path(job.file.path)
    if not path.exists():
        raise parse.UnreadableFile("The uploaded file is no longer available.")
    chunk_size = max(1, settings.IMPORT_CHUNK_ROWS)
    seen: dict[str, int] = {}
    with parse.open_table(path, job.file_kind) as table:
        columns = map_columns(table.header, job.mapping)
        if job.started_at is None:
            _prepare(job, path, table, columns)
        elif job.dry_run and job.rows_done:
            # A dry run keeps no state outside memory; restarting it from the top is exact.
            _restart_dry_run(job)
        validator = RowValidator(
            columns=columns,
            members_by_email=_members_by_email(job.org),
            phone_region=job.org.default_phone_region,
        )
        rows = itertools.islice(table.rows, job.rows_done, None)
        done = job.rows_done
        with chunk_writer(job, seen) as writer:
            while batch := list(itertools.islice(rows, chunk_size)):
                # Between two chunks (never after the last) a job may give its slot back:
                # its worker is shutting down, or another organization waits for a turn.
                if done > job.rows_done and (reason := pause_reason(writer.job)):
                    raise JobPaused(reason)
                done += len(batch)
                if done > settings.IMPORT_MAX_ROWS:
                    raise parse.UnreadableFile(
                        f"The file has more than {settings.IMPORT_MAX_ROWS} data rows."
                    )
                writer.submit(_validate(job, validator, batch))
            job = writer.close()
    return _finish(job, ImportStatus.SUCCESS)


def _prepare(job: ImportJob, path: Path, table: parse.Table, columns) -> None:
    """First run: check the header, count the rows (for progress and the row limit)."""
    if columns.missing_required:
        raise parse.UnreadableFile(
            "Missing required column(s): "
            + ", ".join(columns.missing_required)
            + f". Columns found: {', '.join(table.header)[:500]}."
        )
    if job.file_kind == FileKind.XLSX:
        # Reading a workbook twice would double the import time: trust its dimension for
        # progress (unknown without one); the row limit is enforced again while reading.
        total = table.estimated_rows
        if total is not None and total > settings.IMPORT_MAX_ROWS:
            raise parse.UnreadableFile(
                f"The file has more than {settings.IMPORT_MAX_ROWS} data rows; split it."
            )
    else:
        total = parse.count_data_rows(path, job.file_kind, settings.IMPORT_MAX_ROWS)
    job.total_rows = total
    job.headers = table.header
    job.unknown_columns = columns.unknown
    job.status = ImportStatus.RUNNING
    job.started_at = timezone.now()
    job.save(
        update_fields=[
            "total_rows",
            "headers",
            "unknown_columns",
            "status",
            "started_at",
            "updated_on",
        ]
    )


def _restart_dry_run(job: ImportJob) -> None:
    with transaction.atomic():
        ImportIssue.objects.for_org(job.org).filter(job=job).delete()
        for name in ImportJob.CHECKPOINT_FIELDS:
            setattr(job, name, 0)
        job.save(update_fields=[*ImportJob.CHECKPOINT_FIELDS, "updated_on"])


def _members_by_email(org: Organization) -> dict:
    return {
        email.lower(): user_id
        for email, user_id in Membership.objects.for_org(org)
        .filter(is_active=True, user__is_active=True)
        .values_list("user__email", "user_id")
    }


def _validate(job: ImportJob, validator: RowValidator, batch) -> ChunkInput:
    chunk = ChunkInput(size=len(batch))
    for number, cells in batch:
        lead_row, errors = validator.validate(number, cells)
        if lead_row is not None:
            chunk.valid.append(lead_row)
            continue
        chunk.failed += 1
        for position, (field, message) in enumerate(errors):
            chunk.issues.append(
                ImportIssue(
                    org_id=job.org_id,
                    job_id=job.pk,
                    kind=IssueKind.ERROR,
                    row=number,
                    field=field,
                    message=message,
                    # The original cells travel once per row, for the error CSV.
                    values=cells if position == 0 else [],
                )
            )
    return chunk


def _finish(job: ImportJob, status: str, reason: str = "") -> ImportJob:
    if status == ImportStatus.FAILED:
        # Keep the counters of the chunks committed before the failure.
        job.refresh_from_db()
    job.status = status
    job.failure_reason = reason
    job.claim = ""
    job.heartbeat_at = None
    job.finished_at = timezone.now()
    fields = ["status", "failure_reason", "finished_at", "claim", "heartbeat_at", "updated_on"]
    if status == ImportStatus.SUCCESS:
        job.total_rows = job.rows_done
        fields.append("total_rows")
    with transaction.atomic():
        job.save(update_fields=fields)
        events_record(org=job.org_id, change=import_change(job), events=[_finished_event(job)])
    return job


def _finished_event(job: ImportJob) -> EventData:
    counts = {
        name: [None, getattr(job, name)]
        for name in ("imported_count", "updated_count", "failed_count", "duplicate_count")
    }
    return EventData(
        "import.finished",
        "import_finished",
        None,
        {
            "status": [ImportStatus.RUNNING.value, job.status],
            "job": [None, str(job.pk)],
            "dry_run": [None, job.dry_run],
            **counts,
        },
    )
