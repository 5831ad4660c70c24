"""Keeping import jobs alive: who runs a job (claim + heartbeat), whose turn it is (fair
scheduling across organizations), handing a job back to the queue (pause, stall), and the
periodic sweep that re-sends lost messages and removes expired files.

A job's message is only a token saying "an import slot is due": the job that runs is chosen
in the database, the organization whose last turn is oldest first, so one organization's
backlog cannot hold every slot; a running job hands its slot back after any chunk when
another organization is waiting.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.utils import timezone

from leads.imports.models import ImportJob, ImportStatus
from outbox.services import outbox_enqueue

logger = logging.getLogger(__name__)

IMPORT_TASK = "leads.imports.tasks.lead_import_run"


class JobPaused(Exception):
    """The job gave its slot back (worker shutdown, or another organization's turn)."""


def _jobs():
    return ImportJob.objects.unscoped()


def _stale_before():
    return timezone.now() - timedelta(seconds=settings.IMPORT_STALL_SECONDS)


def job_enqueue(*, job: ImportJob) -> None:
    """Hand the job's task to the outbox, in the caller's transaction."""
    now = timezone.now()
    _jobs().filter(pk=job.pk).update(enqueued_at=now)
    job.enqueued_at = now
    outbox_enqueue(task=IMPORT_TASK, args=[str(job.pk)])


def fair_scheduling() -> bool:
    # In-process (no broker) the upload waits for its own job: nothing to share.
    return settings.IMPORT_FAIR_SCHEDULING and not settings.CELERY_TASK_ALWAYS_EAGER


def _waiting():
    """Queued jobs that nobody is preparing right now."""
    return (
        _jobs()
        .filter(status=ImportStatus.QUEUED)
        .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=_stale_before()))
    )


def _fairest_waiting_ids(limit: int = 5) -> list:
    last_turn = (
        _jobs()
        .filter(org_id=OuterRef("org_id"))
        .order_by()
        .values("org_id")
        .annotate(last=Max("turn_at"))
        .values("last")
    )
    return list(
        _waiting()
        .annotate(org_turn=Subquery(last_turn))
        .order_by(F("org_turn").asc(nulls_first=True), "waiting_since", "created_on")
        .values_list("pk", flat=True)[:limit]
    )


def _lock(queryset):
    """Lock the job rows only (`of=self`): with `select_related("org")` a plain FOR UPDATE
    would lock the organization's row too, and a concurrent claim of another job of the same
    organization would then skip its own, unlocked job."""
    options = {}
    if connection.features.has_select_for_update_skip_locked:
        options["skip_locked"] = True
    if connection.features.has_select_for_update_of:
        options["of"] = ("self",)
    return queryset.select_for_update(**options)


def job_claim(*, job_id, delivery: str | None, worker: str = "") -> ImportJob | None:
    """Decide which job this delivery runs, and claim it. None: nothing to run.

    A direct call (delivery None) always takes the job. A delivery takes a running job only
    if it is its own message again (redelivery, retry) or the job's heartbeat stopped."""
    with transaction.atomic():
        job = _lock(_jobs().select_related("org").filter(pk=job_id)).first()
        if job is None or job.is_finished:
            return job
        if delivery is not None and job.status == ImportStatus.RUNNING:
            alive = job.heartbeat_at is not None and job.heartbeat_at >= _stale_before()
            if job.claim and job.claim != delivery and alive:
                return None  # another worker is on it
        elif delivery is not None and job.status == ImportStatus.QUEUED:
            preparing = job.heartbeat_at is not None and job.heartbeat_at >= _stale_before()
            if job.claim and job.claim != delivery and preparing:
                return None
            if fair_scheduling() and not job.dry_run:
                job = _fair_turn(job)
        now = timezone.now()
        job.claim = delivery or ""
        job.worker = worker[:255]
        job.heartbeat_at = now
        job.turn_at = now
        job.stop_requested = False
        if job.started_at is not None:
            job.status = ImportStatus.RUNNING  # resuming after a pause
        job.save(
            update_fields=[
                "claim",
                "worker",
                "heartbeat_at",
                "turn_at",
                "stop_requested",
                "status",
                "updated_on",
            ]
        )
        return job


def _fair_turn(job: ImportJob) -> ImportJob:
    """The job whose turn it is: maybe another organization's. The message we took from it
    is given back to `job` so that every waiting job keeps one."""
    for candidate_id in _fairest_waiting_ids():
        if candidate_id == job.pk:
            return job
        other = _lock(
            _jobs().select_related("org").filter(pk=candidate_id, status=ImportStatus.QUEUED)
        ).first()
        if other is not None and not other.dry_run:
            job_enqueue(job=job)
            return other
    return job


def pause_reason(job: ImportJob) -> str:
    """Why the job should give its slot back now ('' if it should not)."""
    from celery.worker import state

    stop = _jobs().filter(pk=job.pk).values_list("stop_requested", flat=True).first()
    if stop or state.should_stop or state.should_terminate:
        return "its worker is shutting down"
    if not fair_scheduling() or job.dry_run:
        return ""
    # A new import of another organization gets the slot after this chunk; one that already
    # had turns waits for a slice of IMPORT_FAIR_SLICE_SECONDS, so that two long imports
    # alternate in slices rather than every chunk (each resume re-reads the file up to its
    # checkpoint).
    slice_start = timezone.now() - timedelta(seconds=settings.IMPORT_FAIR_SLICE_SECONDS)
    others = _waiting().exclude(org_id=job.org_id).filter(dry_run=False)
    if others.filter(Q(started_at__isnull=True) | Q(waiting_since__lt=slice_start)).exists():
        return "another organization's import takes a turn"
    return ""


def job_requeue(*, job_id, reason: str, stale_before=None) -> bool:
    """Put a started job back in the queue at its checkpoint, with a message to resume it.

    With `stale_before`, only if the job's heartbeat is still older than that once the row
    is locked. A row locked by a chunk being committed is skipped: its worker is alive."""
    with transaction.atomic():
        job = _lock(_jobs().filter(pk=job_id)).first()
        if job is None or job.is_finished:
            return False
        if stale_before is not None and (
            job.heartbeat_at is None or job.heartbeat_at >= stale_before or not job.claim
        ):
            return False
        job.status = ImportStatus.QUEUED
        job.claim = job.worker = ""
        job.heartbeat_at = None
        job.stop_requested = False
        job.waiting_since = timezone.now()
        job.save(
            update_fields=[
                "status",
                "claim",
                "worker",
                "heartbeat_at",
                "stop_requested",
                "waiting_since",
                "updated_on",
            ]
        )
        job_enqueue(job=job)
    logger.info("Import %s back in the queue at row %s: %s.", job.pk, job.rows_done, reason)
    return True


def job_note_retry(*, job_id, error: BaseException) -> None:
    """Best effort (the database may still be down): the job answers `retrying`."""
    try:
        _jobs().filter(pk=job_id).update(
            retries=F("retries") + 1, last_error=f"{type(error).__name__}: {error}"[:500]
        )
    except DatabaseError:
        connection.close()


class Heartbeat:
    """Refreshes the job's heartbeat from a thread (its own connection) while it runs, so
    that a long chunk or a slow first count is not mistaken for a dead worker."""

    def __init__(self, job: ImportJob):
        self.job_id, self.claim = job.pk, job.claim
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True, name="import-heartbeat")

    def _beat(self) -> None:
        from django.db import connections

        try:
            while not self.stopped.wait(settings.IMPORT_HEARTBEAT_SECONDS):
                try:
                    self._touch()
                except DatabaseError:
                    connections["default"].close()
        finally:
            connections.close_all()

    def _touch(self) -> None:
        # Never wait for the job's row: while a chunk is being committed, its transaction
        # holds that row (and writes the heartbeat itself at commit), and the sweep skips a
        # locked row as alive. Waiting here would let a slow chunk look like a dead worker.
        with transaction.atomic():
            if list(_lock(_jobs().filter(pk=self.job_id, claim=self.claim)).values_list("pk")):
                _jobs().filter(pk=self.job_id).update(heartbeat_at=timezone.now())

    def __enter__(self):
        # In-process runs (no broker) have no sweep to inform, and SQLite one writer.
        if not settings.CELERY_TASK_ALWAYS_EAGER and connection.vendor == "postgresql":
            self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        return False


def import_jobs_heal() -> dict:
    """The periodic sweep: re-queue jobs whose worker stopped beating, and re-send the
    messages of queued jobs that the broker lost (restarted without its data)."""
    stale = _stale_before()
    candidates = (
        _jobs()
        .filter(status__in=[ImportStatus.RUNNING, ImportStatus.QUEUED])
        .exclude(claim="")
        .filter(heartbeat_at__lt=stale)
        .values_list("pk", flat=True)
    )
    stalled = sum(
        job_requeue(job_id=job_id, reason="its worker stopped (no heartbeat)", stale_before=stale)
        for job_id in list(candidates)
    )
    resent = _resend_lost_messages()
    if stalled or resent:
        logger.warning(
            "Import sweep: %s stalled job(s) re-queued, %s message(s) re-sent.", stalled, resent
        )
    return {"stalled": stalled, "resent": resent}


def _resend_lost_messages() -> int:
    before = timezone.now() - timedelta(seconds=settings.IMPORT_REQUEUE_SECONDS)
    waiting = list(
        _waiting()
        .filter(claim="")
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=before))
        .order_by("waiting_since", "created_on")
        .values_list("pk", flat=True)
    )
    if not waiting:
        return 0
    # Every waiting job should have a message; the ones whose message is older than
    # IMPORT_REQUEUE_SECONDS get the missing ones.
    missing = _waiting().filter(claim="").count() - _messages_in_broker()
    for job_id in waiting[: max(0, missing)]:
        with transaction.atomic():
            job_enqueue(job=_jobs().get(pk=job_id))
    return max(0, missing)


def _messages_in_broker() -> int:
    """Import messages waiting in the broker or in the outbox (tokens are interchangeable:
    any of them runs the fairest waiting job)."""
    from outbox.models import OutboxMessage

    pending = OutboxMessage.objects.filter(task=IMPORT_TASK, published_on__isnull=True).count()
    try:
        from crm.celery import app

        with app.connection_for_read() as conn:
            client = getattr(conn.default_channel, "client", None)
            waiting = int(client.llen(settings.IMPORT_QUEUE)) if client is not None else 0
    except Exception as error:  # noqa: BLE001 - the broker is down: the outbox will retry
        logger.warning("Import sweep: broker unavailable (%s).", type(error).__name__)
        return 10**9  # resend nothing now
    return pending + waiting


def import_files_purge() -> int:
    """Remove uploaded files of jobs finished more than IMPORT_FILE_RETENTION_HOURS ago, and
    files no job refers to (an upload whose transaction never committed)."""
    cutoff = timezone.now() - timedelta(hours=settings.IMPORT_FILE_RETENTION_HOURS)
    removed = 0
    expired = (
        _jobs()
        .filter(status__in=[ImportStatus.SUCCESS, ImportStatus.FAILED], finished_at__lt=cutoff)
        .exclude(file="")
    )
    for job_id, name in expired.values_list("pk", "file"):
        default_storage.delete(name)
        _jobs().filter(pk=job_id).update(file="")
        removed += 1
    root = Path(settings.MEDIA_ROOT) / "imports"
    orphan_before = (timezone.now() - timedelta(hours=1)).timestamp()
    if root.is_dir():
        for path in root.glob("*/*"):
            name = path.relative_to(settings.MEDIA_ROOT).as_posix()
            if path.stat().st_mtime < orphan_before and not _jobs().filter(file=name).exists():
                path.unlink(missing_ok=True)
                removed += 1
    if removed:
        logger.info("Removed %s expired import file(s).", removed)
    return removed
