"""PostgreSQL down for ~20 s in the middle of an import, on a cluster of the test's own:
the web answers 503 with Retry-After (one log line each, no traceback), the import is
retried with backoff rather than failed or left running, and everything resumes within
seconds of the restart; a pooled web connection does not answer a 500 afterwards."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection

from tests.durability import services as svc
from tests.imports.conftest import csv_bytes

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DOWN_SECONDS = float(os.environ.get("FAULT_DATABASE_DOWN_SECONDS", "20"))
ROWS = 30_000
CHUNK = 500
DB = "crm_fault"

SETUP = """
import json, os
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework_simplejwt.tokens import RefreshToken
from common.models import Role
from leads.imports.services import import_job_create
from tests.factories import MembershipFactory
admin = MembershipFactory(role=Role.ADMIN)
data = open(os.environ["FAULT_CSV"], "rb").read()
job = import_job_create(org=admin.org, by=admin.user, upload=SimpleUploadedFile("big.csv", data))
print(json.dumps({"job": str(job.pk), "org": str(admin.org_id),
                  "token": str(RefreshToken.for_user(admin.user).access_token)}))
"""


@pytest.fixture
def cluster(fault_redis):
    if shutil.which("pg_createcluster") is None:
        pytest.fail("pg_createcluster is not installed (postgresql-common)")
    server = svc.PostgresCluster()
    try:
        server.create()
        yield server
    finally:
        server.drop()


def _get(url: str, headers: dict) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def _job(cluster, job_id):
    return cluster.query(
        DB,
        "SELECT status, rows_done, imported_count FROM lead_imports_importjob WHERE id = %s",
        [job_id],
    )[0]


def test_database_down_mid_import(cluster, fault_redis, tmp_path):
    cluster.copy_schema(svc.database_url(connection.settings_dict["NAME"]), DB)
    env = svc.service_env(
        broker=fault_redis.url,
        database=cluster.url(DB),
        mail_dir=tmp_path / "mail",
        IMPORT_CHUNK_ROWS=CHUNK,
        DATABASE_CONN_MAX_AGE=600,
    )
    data = tmp_path / "big.csv"
    data.write_bytes(
        csv_bytes(
            [["first_name", "last_name", "email"]]
            + [["Lead", str(n), f"lead{n}@example.com"] for n in range(ROWS)]
        )
    )
    setup = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SETUP],
        cwd=svc.ROOT,
        env={**env, "FAULT_CSV": str(data)},
        check=True,
        capture_output=True,
        text=True,
    )
    ids = json.loads(setup.stdout.strip().splitlines()[-1])
    port = svc.free_port()
    logs = {name: tmp_path / f"{name}.log" for name in ("worker", "relay", "web")}
    web_cmd = [str(svc.BIN / "gunicorn"), "crm.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"]
    processes = []
    try:
        processes.append(svc.start_process(web_cmd, env, logs["web"]))
        processes.append(svc.start_worker(env, logs["worker"]))
        processes.append(svc.start_relay(env, logs["relay"]))
        url = f"http://127.0.0.1:{port}/api/leads/upload/{ids['job']}/"
        headers = {"Authorization": f"Bearer {ids['token']}", "organization-id": ids["org"]}
        svc.wait_for(
            lambda: _job(cluster, ids["job"])[1] >= 2 * CHUNK, 60, "two chunks", logs.values()
        )
        assert _get(url, headers)[0] == 200  # the web process now holds a pooled connection

        cluster.stop()
        down = time.monotonic()
        answers = [_get(url, headers) for _ in range(3)]
        health = _get(f"http://127.0.0.1:{port}/api/health/", {})
        for status, response_headers, body in answers:
            assert status == 503, body
            assert response_headers.get("Retry-After") == "5"
            assert json.loads(body)["code"] == "service_unavailable"
        assert health[0] == 503 and json.loads(health[2])["database"].startswith("error")
        time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down)))
        cluster.start()
        back = time.monotonic()

        # The first request after the restart is served by the same (pooled) connection slot.
        assert _get(url, headers)[0] == 200
        status, rows_done, imported = svc.wait_for(
            lambda: (job := _job(cluster, ids["job"]))[0] in ("success", "failed") and job,
            60,
            "the import to finish",
            logs.values(),
        )
        recovered = time.monotonic() - back
    finally:
        for process in processes:
            svc.stop(process)

    assert (status, rows_done, imported) == ("success", ROWS, ROWS)
    counts = cluster.query(DB, "SELECT count(*), count(DISTINCT email_normalized) FROM leads_lead")
    assert counts[0] == (ROWS, ROWS)
    assert recovered < 30
    web_log = logs["web"].read_text(errors="replace")
    assert web_log.count("503 GET /api/leads/upload/") == 3
    assert "Traceback" not in web_log
