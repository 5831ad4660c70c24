"""A real Celery worker on Redis, killed with SIGKILL mid-import, then replaced.

The replacement gets the unacknowledged task back from Redis once the visibility timeout
(CELERY_VISIBILITY_TIMEOUT, kept short here; the same mechanism in production) expires,
and resumes at the job's checkpoint: every row ends counted exactly once.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection

from common.models import Role
from leads.imports.models import ImportJob
from leads.models import Lead
from tests.factories import MembershipFactory
from tests.imports.conftest import csv_bytes, xlsx_bytes

BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "")
ROWS = 30_000
CHUNK = 500

pytestmark = [pytest.mark.worker, pytest.mark.postgres]


@pytest.fixture
def broker_url():
    if not BROKER_URL:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CELERY_TEST_BROKER_URL must be set in CI")
        pytest.skip("CELERY_TEST_BROKER_URL is not set")
    if connection.vendor != "postgresql":
        pytest.skip("the worker test needs PostgreSQL (a separate process shares the database)")
    return BROKER_URL


def _database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(broker: str, queue: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "IMPORT_CHUNK_ROWS": str(CHUNK),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    celery = Path(sys.executable).parent / "celery"
    return subprocess.Popen(
        [
            str(celery),
            "-A",
            "crm",
            "worker",
            "-P",
            "solo",
            "-Q",
            queue,
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGKILL takes all of it
    )


def _kill(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait_for(predicate, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n--- worker log ---\n{tail}")


def _job(job_id) -> ImportJob:
    return ImportJob.objects.unscoped().get(pk=job_id)


FILE_BYTES = {"csv": csv_bytes, "xlsx": xlsx_bytes}


# The XLSX case also runs the workbook reader process under a real worker, killed with it.
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_import_resumes_without_loss_or_duplicates(
    broker_url, tmp_path, org, kind
):
    admin = MembershipFactory(org=org, role=Role.ADMIN).user
    rows = [["first_name", "last_name", "email", "tags"]] + [
        ["Lead", str(n), f"lead{n}@example.com", "imported" if n % 2 else ""] for n in range(ROWS)
    ]
    rows.append(["Dup", "licate", "LEAD7@example.com", ""])  # one duplicate of row 9
    rows.append(["", "nameless", "x@example.com", ""])  # one invalid row
    job = ImportJob(org=org, created_by=admin, file_name=f"big.{kind}", file_kind=kind)
    job.file.save(f"big.{kind}", ContentFile(FILE_BYTES[kind](rows)), save=False)
    job.save()

    queue = f"imports-test-{uuid.uuid4().hex}"
    log = tmp_path / "worker.log"
    sender = Celery(broker=broker_url)
    first = second = None
    try:
        first = _start_worker(broker_url, queue, log)
        sender.send_task("leads.imports.tasks.lead_import_run", args=[str(job.pk)], queue=queue)

        at_kill = _wait_for(
            lambda: (j := _job(job.pk)).rows_done >= 2 * CHUNK and j, 90, "two chunks", log
        )
        _kill(first)
        killed = _job(job.pk)
        assert killed.status == "running", "the import finished before the kill: grow ROWS"
        assert killed.rows_done >= at_kill.rows_done and killed.rows_done < ROWS
        assert killed.rows_done % CHUNK == 0  # only whole chunks are ever committed
        assert Lead.objects.for_org(org).count() == killed.imported_count

        second = _start_worker(broker_url, queue, log)
        done = _wait_for(
            lambda: (j := _job(job.pk)).is_finished and j, 180, "the import to finish", log
        )
    finally:
        _kill(first)
        _kill(second)
        sender.close()

    assert done.status == "success", done.failure_reason
    assert (done.imported_count, done.failed_count, done.duplicate_count) == (ROWS, 1, 1)
    assert done.rows_done == done.total_rows == ROWS + 2
    emails = list(Lead.objects.for_org(org).values_list("email_normalized", flat=True))
    assert len(emails) == len(set(emails)) == ROWS
    tagged = Lead.objects.for_org(org).filter(tags__name="imported").count()
    assert tagged == ROWS // 2
