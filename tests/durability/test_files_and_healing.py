"""Import files removed after the retention period (and a rejected upload leaves nothing);
jobs that heal: the sweep re-queues a job whose worker stopped, the answer says `stalled`
or `retrying`, a database error is never taken as the job's end."""

import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from leads.imports import healing
from leads.imports.models import ImportJob, ImportStatus
from leads.imports.selectors import import_job_health
from leads.imports.services import import_job_run
from outbox.models import OutboxMessage
from tests.imports.conftest import UPLOAD_URL, csv_bytes
from tests.imports.factories import ImportJobFactory

ROWS = [["first_name", "last_name", "email"]] + [
    ["Lead", str(n), f"lead{n}@example.com"] for n in range(7)
]


def _files(root) -> list[Path]:
    root = Path(root)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _job_with_file(org, **fields) -> ImportJob:
    job = ImportJobFactory(org=org, **fields)
    job.file.save("leads.csv", ContentFile(csv_bytes(ROWS)))
    return job


def _silent_running_job(org, **fields) -> ImportJob:
    """A running job whose heartbeat is 31 s old (IMPORT_STALL_SECONDS is 30 in these tests)."""
    return _job_with_file(
        org,
        status=ImportStatus.RUNNING,
        started_at=timezone.now(),
        claim="delivery-1",
        heartbeat_at=timezone.now() - timedelta(seconds=31),
        **fields,
    )


@pytest.mark.django_db
def test_files_are_removed_after_the_retention_period(org, settings):
    settings.IMPORT_FILE_RETENTION_HOURS = 24
    long_ago = timezone.now() - timedelta(hours=25)
    expired = _job_with_file(org, status=ImportStatus.SUCCESS, finished_at=long_ago)
    recent = _job_with_file(org, status=ImportStatus.FAILED, finished_at=timezone.now())
    waiting = _job_with_file(org, status=ImportStatus.QUEUED)
    old_orphan = Path(settings.MEDIA_ROOT) / "imports" / str(org.pk) / "orphan.csv"
    old_orphan.write_bytes(b"x")
    os.utime(old_orphan, (time.time() - 7200, time.time() - 7200))
    new_orphan = old_orphan.with_name("uploading.csv")
    new_orphan.write_bytes(b"x")
    expired_path = Path(expired.file.path)

    assert healing.import_files_purge() == 2

    assert not expired_path.exists() and not old_orphan.exists() and new_orphan.exists()
    expired.refresh_from_db()
    assert expired.file.name == ""
    assert Path(recent.file.path).exists() and Path(waiting.file.path).exists()


@pytest.mark.django_db
def test_a_rejected_upload_leaves_no_file_and_no_job(admin_client, settings, tmp_path):
    temp_dir = tmp_path / "upload-tmp"
    temp_dir.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(temp_dir)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # every upload goes through a temporary file
    settings.IMPORT_MAX_FILE_BYTES = 2000
    not_a_table = SimpleUploadedFile("leads.csv", b"\x00\x01\x02" * 50)
    too_large = SimpleUploadedFile("leads.csv", b"a,b\n" * 600)

    for upload, code in ((not_a_table, 400), (too_large, 413)):
        response = admin_client.post(UPLOAD_URL, {"leads_file": upload}, format="multipart")
        assert response.status_code == code

    assert _files(settings.MEDIA_ROOT) == [] and _files(temp_dir) == []
    assert not ImportJob.objects.unscoped().exists()


@pytest.mark.django_db
def test_a_job_that_cannot_be_saved_removes_its_file(admin_client, settings, monkeypatch):
    def fail(**kwargs):
        raise OperationalError("the database went away")

    monkeypatch.setattr("leads.imports.services.job_enqueue", fail)
    upload = SimpleUploadedFile("leads.csv", csv_bytes(ROWS))
    response = admin_client.post(UPLOAD_URL, {"leads_file": upload}, format="multipart")
    assert response.status_code == 503
    assert _files(settings.MEDIA_ROOT) == []


@pytest.mark.django_db
def test_the_sweep_requeues_a_job_whose_worker_stopped_at_its_checkpoint(
    org, admin_client, settings, monkeypatch
):
    settings.IMPORT_STALL_SECONDS = 30
    job = _silent_running_job(org, rows_done=3, imported_count=3, worker="celery@gone")
    answer = admin_client.get(f"{UPLOAD_URL}{job.pk}/").json()
    assert (answer["status"], answer["health"]) == ("running", "stalled")

    monkeypatch.setattr(healing, "_messages_in_broker", lambda: 0)
    assert healing.import_jobs_heal() == {"stalled": 1, "resent": 0}

    job.refresh_from_db()
    assert (job.status, job.claim, job.rows_done, job.imported_count) == ("queued", "", 3, 3)
    assert OutboxMessage.objects.get().args == [str(job.pk)]
    assert admin_client.get(f"{UPLOAD_URL}{job.pk}/").json()["health"] == "ok"


@pytest.mark.django_db
def test_the_sweep_resends_the_message_of_a_queued_job_the_broker_lost(org, settings, monkeypatch):
    settings.IMPORT_REQUEUE_SECONDS = 10
    old = timezone.now() - timedelta(seconds=11)
    lost = _job_with_file(org, enqueued_at=old, waiting_since=old)
    _job_with_file(org, enqueued_at=timezone.now(), waiting_since=timezone.now())

    monkeypatch.setattr(healing, "_messages_in_broker", lambda: 1)  # the fresh job's message
    assert healing.import_jobs_heal() == {"stalled": 0, "resent": 1}
    assert [m.args for m in OutboxMessage.objects.all()] == [[str(lost.pk)]]

    # Its message is in the broker now: nothing more is sent.
    monkeypatch.setattr(healing, "_messages_in_broker", lambda: 2)
    ImportJob.objects.for_org(org).update(enqueued_at=old)
    assert healing.import_jobs_heal()["resent"] == 0


@pytest.mark.django_db
def test_a_database_error_is_retried_never_taken_as_the_end(admin_client, org, monkeypatch):
    monkeypatch.setattr("outbox.services._publish_after_commit", lambda message_id: None)
    response = admin_client.post(
        UPLOAD_URL, {"leads_file": SimpleUploadedFile("l.csv", csv_bytes(ROWS))}, format="multipart"
    )
    job_id = response.json()["id"]

    def down(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("leads.imports.pipeline.chunk_commit", down)
    with pytest.raises(OperationalError):
        import_job_run(job_id=job_id, delivery="delivery-1")
    job = ImportJob.objects.for_org(org).get(pk=job_id)
    assert job.status == "running" and job.failure_reason == ""

    healing.job_note_retry(job_id=job_id, error=OperationalError("down"))
    assert admin_client.get(f"{UPLOAD_URL}{job_id}/").json()["health"] == "retrying"

    monkeypatch.undo()
    done = import_job_run(job_id=job_id, delivery="delivery-1")  # the retry: same message
    assert (done.status, done.imported_count, done.retries) == ("success", 7, 0)


@pytest.mark.django_db
def test_a_running_import_gives_its_slot_to_another_organization(org, other_org, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # fair scheduling is for real workers
    settings.IMPORT_FAIR_SLICE_SECONDS = 10
    running = ImportJobFactory(org=org, status=ImportStatus.RUNNING)
    ImportJobFactory(org=org)  # its own organization's backlog never takes its slot
    assert healing.pause_reason(running) == ""

    resumed = ImportJobFactory(
        org=other_org, started_at=timezone.now(), waiting_since=timezone.now()
    )
    assert healing.pause_reason(running) == ""  # a long import waits for its slice
    resumed.waiting_since = timezone.now() - timedelta(seconds=11)
    resumed.save()
    assert "another organization" in healing.pause_reason(running)

    resumed.delete()
    ImportJobFactory(org=other_org)  # a new import: right after this chunk
    assert "another organization" in healing.pause_reason(running)
    settings.IMPORT_FAIR_SCHEDULING = False
    assert healing.pause_reason(running) == ""


@pytest.mark.django_db(transaction=True)
def test_a_chunk_slower_than_the_stall_limit_is_not_taken_for_a_dead_worker(
    org, admin_client, settings, monkeypatch
):
    """While a chunk commits, its transaction holds the job's row: the heartbeat thread
    must not wait for it (it would look dead), the sweep must leave the job alone, and the
    job's answer must not say `stalled`."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED: PostgreSQL")
    settings.IMPORT_STALL_SECONDS = 30
    monkeypatch.setattr("outbox.services._publish_after_commit", lambda message_id: None)
    job = _silent_running_job(org)
    locked, release = threading.Event(), threading.Event()

    def slow_chunk():
        with transaction.atomic():
            ImportJob.objects.unscoped().select_for_update().get(pk=job.pk)
            locked.set()
            release.wait(30)
        connections.close_all()

    chunk = threading.Thread(target=slow_chunk)
    chunk.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        healing.Heartbeat(job)._touch()  # skips the locked row at once
        assert time.monotonic() - started < 2
        assert healing.import_jobs_heal()["stalled"] == 0
        assert admin_client.get(f"{UPLOAD_URL}{job.pk}/").json()["health"] == "ok"
    finally:
        release.set()
        chunk.join(30)
    job.refresh_from_db()
    assert (job.status, job.claim) == ("running", "delivery-1")
    assert admin_client.get(f"{UPLOAD_URL}{job.pk}/").json()["health"] == "stalled"

    # Once the chunk's transaction is gone and the heartbeat stays silent, the job is stalled.
    assert healing.import_jobs_heal()["stalled"] == 1
    job.refresh_from_db()
    assert (job.status, job.claim) == ("queued", "")


@pytest.mark.django_db
def test_a_job_read_just_before_its_chunk_commits_is_not_called_stalled(org, settings):
    """The answer reads the job, then probes its row: a chunk that commits in between
    (writing a new heartbeat) leaves the job alive, whatever the first read saw."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED: PostgreSQL")
    settings.IMPORT_STALL_SECONDS = 30
    job = _silent_running_job(org)
    read_before = ImportJob.objects.for_org(org).get(pk=job.pk)
    ImportJob.objects.for_org(org).filter(pk=job.pk).update(heartbeat_at=timezone.now())
    assert read_before.health == "stalled"
    assert import_job_health(job=read_before) == "ok"
    ImportJob.objects.for_org(org).filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=31)
    )
    assert import_job_health(job=read_before) == "stalled"
