"""The serving stack under slow clients: gunicorn with its production settings (threaded
workers) behind nginx with the repository's configuration, both started on loopback.

Sixty clients hold requests open (50 slow uploads, 10 headers that never end); through the
proxy, health checks and an authenticated lead list are still answered at once and every
slow upload is imported when it finally arrives. The same clients sent straight to gunicorn
leave it unable to answer anything: that is what the proxy is for.
"""

import http.client
import json
import os
import time

import pytest
from django.conf import settings
from django.db import connection
from rest_framework_simplejwt.tokens import RefreshToken

from common.models import Role
from leads.models import Lead
from tests.factories import MembershipFactory
from tests.serving import stack
from tests.serving.slowloris import Slowloris, multipart_upload

pytestmark = [pytest.mark.proxy]

SLOW_UPLOADS = 50
SLOW_HEADERS = 10
PROMPT = 2.0  # seconds: "answered at once", with room for a busy CI machine


def _require_nginx() -> None:
    if stack.nginx_binary() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("nginx must be installed in CI (.ci/run installs nginx-light)")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")


def _database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _app_env(tmp_path) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # the tokens minted here must verify there
        "MEDIA_ROOT": str(tmp_path / "media"),
        "CAPTURE_TRUSTED_PROXY_COUNT": "1",
        "LOG_LEVEL": "WARNING",
    }
    # Tasks run in the web process (no broker): an upload's answer means it was imported.
    for name in ("CELERY_BROKER_URL", "CACHE_URL", "DJANGO_ENV"):
        env.pop(name, None)
    return env


def _timed_get(port, path, headers=None):
    """(status, seconds); status None when no answer came within a few seconds."""
    started = time.monotonic()
    try:
        status, _ = stack.get(port, path, headers=headers, timeout=PROMPT + 3)
    except TimeoutError:
        status = None
    return status, time.monotonic() - started


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_slow_clients_hold_the_proxy_not_gunicorn(tmp_path, org):
    _require_nginx()
    if connection.vendor != "postgresql":
        pytest.skip("gunicorn runs in its own processes: the test database must be PostgreSQL")
    member = MembershipFactory(org=org, role=Role.ADMIN)
    token = str(RefreshToken.for_user(member.user).access_token)
    auth = {"Authorization": f"Bearer {token}", "organization-id": str(org.pk)}
    log = tmp_path / "serving.log"

    def slow_uploads(port, tag):
        return [
            multipart_upload(
                host=f"127.0.0.1:{port}",
                token=token,
                org_id=org.pk,
                csv_text=f"first_name,last_name,email\r\nSlow,{n},{tag}{n}@example.com\r\n",
            )
            for n in range(SLOW_UPLOADS)
        ]

    with stack.gunicorn(env=_app_env(tmp_path), log=log) as app_port:
        with stack.nginx(upstream_port=app_port, log=log) as proxy_port:
            slow = Slowloris(
                proxy_port, uploads=slow_uploads(proxy_port, "proxied"), header_only=SLOW_HEADERS
            )
            try:
                time.sleep(1.5)  # every slow request is under way
                answers = [_timed_get(proxy_port, "/api/health/") for _ in range(10)]
                answers += [_timed_get(proxy_port, "/api/leads/", auth) for _ in range(5)]
                held = slow.still_waiting()
                statuses = slow.release(timeout=60)
            finally:
                slow.close()

        assert [status for status, _ in answers] == [200] * 15, "starved behind the proxy"
        slowest = max(seconds for _, seconds in answers)
        assert slowest < PROMPT, f"an answer took {slowest:.1f} s behind the proxy"
        assert held == SLOW_UPLOADS + SLOW_HEADERS, "the proxy dropped or answered slow clients"
        # Each slow upload, once complete, reached the app whole and was imported.
        assert sorted(statuses) == [201] * SLOW_UPLOADS, log.read_text()[-3000:]
        assert Lead.objects.for_org(org).filter(email__startswith="proxied").count() == SLOW_UPLOADS

    # The comparison, proving the clients above are real pressure: the same clients sent
    # straight to gunicorn with one request per worker (sync) starve it. (The threaded
    # workers of the production configuration hand a client that sends nothing for 5 s back
    # to their poller, so they starve less predictably; only the proxy holds slow clients
    # without limit.)
    sync = ("--worker-class", "sync", "--threads", "1")
    with stack.gunicorn(env=_app_env(tmp_path), log=log, options=sync) as app_port:
        direct = slow_uploads(app_port, "direct")
        slow = Slowloris(app_port, uploads=direct, header_only=SLOW_HEADERS)
        try:
            time.sleep(1.5)
            with pytest.raises(TimeoutError):
                stack.get(app_port, "/api/health/", timeout=3)
            with pytest.raises(TimeoutError):
                stack.get(app_port, "/api/leads/", headers=auth, timeout=3)
        finally:
            slow.close()
        # Once they go away, gunicorn answers again.
        status, _ = stack.get(app_port, "/api/health/", timeout=20)
        assert status == 200


EXPORTED = 1500


def _exported_leads(org) -> dict:
    """EXPORTED leads in `org`, and the headers of an ADMIN member who may export them."""
    _require_nginx()
    if connection.vendor != "postgresql":
        pytest.skip("gunicorn runs in its own processes: the test database must be PostgreSQL")
    member = MembershipFactory(org=org, role=Role.ADMIN)
    Lead.objects.bulk_create(
        Lead(org=org, first_name="Export", last_name=str(n), email=f"export{n}@example.com")
        for n in range(EXPORTED)
    )
    return {
        "Authorization": f"Bearer {RefreshToken.for_user(member.user).access_token}",
        "organization-id": str(org.pk),
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_export_that_streams_longer_than_gunicorns_timeout_arrives_whole(tmp_path, org):
    """A large export streams for minutes; gunicorn's `timeout` must not cut it half-way
    (a sync worker would be killed, the client left with a truncated file)."""
    auth = _exported_leads(org)
    log = tmp_path / "serving.log"
    # One lead per page: three queries a lead, several seconds in all; gunicorn's timeout 2 s.
    env = {**_app_env(tmp_path), "EXPORT_PAGE_ROWS": "1"}
    with (
        stack.gunicorn(env=env, log=log, options=("--timeout", "2")) as app_port,
        stack.nginx(upstream_port=app_port, log=log) as proxy_port,
    ):
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=120)
        try:
            conn.request("GET", "/api/leads/export/?format=csv", headers=auth)
            response = conn.getresponse()
            status, body = response.status, response.read()
        finally:
            conn.close()
        took = time.monotonic() - started

    assert status == 200, log.read_text()[-3000:]
    assert took > 2, f"the export took {took:.1f} s: too short to outlast gunicorn's timeout"
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("first_name,last_name")
    assert sorted(line.split(",")[1] for line in lines[1:]) == sorted(map(str, range(EXPORTED)))
    assert "WORKER TIMEOUT" not in log.read_text()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_export_whose_database_connection_dies_mid_stream_ends_incomplete(tmp_path, org):
    """The status line is long gone when the database fails half-way: the client must
    still see that the file is cut (the transfer ends without its last chunk), never a
    complete-looking CSV of the leads read so far."""
    auth = _exported_leads(org)
    log = tmp_path / "serving.log"
    env = {**_app_env(tmp_path), "EXPORT_PAGE_ROWS": "1"}  # a page per lead: seconds in all
    with (
        stack.gunicorn(env=env, log=log) as app_port,
        stack.nginx(upstream_port=app_port, log=log) as proxy_port,
    ):
        conn = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=60)
        try:
            conn.request("GET", "/api/leads/export/?format=csv", headers=auth)
            response = conn.getresponse()
            assert response.status == 200
            first = response.read1(1 << 16)
            assert first.decode("utf-8-sig").startswith("first_name,last_name")
            # The web worker's database session ends, as when PostgreSQL restarts.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            with pytest.raises(http.client.IncompleteRead):
                response.read()
        finally:
            conn.close()
    assert "Traceback" in log.read_text()  # the failure is logged where it happened


def test_proxy_serves_only_the_api_and_refuses_oversized_bodies_unread(tmp_path):
    """No database needed: nginx answers these itself, in the app's error shape; with the
    app down, a 503 with Retry-After instead of nginx's error page."""
    _require_nginx()
    nowhere = stack.free_port()  # nothing listens there: the app is down
    with stack.nginx(upstream_port=nowhere, log=tmp_path / "nginx.log") as port:

        def request(method, path, headers):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.putrequest(method, path)
                for name, value in headers.items():
                    conn.putheader(name, value)
                conn.endheaders()  # a declared length, and no body: nginx must not wait for it
                response = conn.getresponse()
                return response.status, dict(response.getheaders()), response.read()
            finally:
                conn.close()

        status, _, body = request("GET", "/", {})
        assert status == 404 and json.loads(body)["code"] == "not_found"
        status, _, body = request("GET", "/etc/passwd", {})
        assert status == 404

        # Over the attachment limit on a lead route; over the import limit on the upload.
        status, _, body = request("POST", "/api/leads/", {"Content-Length": str(14 * 2**20)})
        assert status == 413 and json.loads(body)["code"] == "too_large"
        status, _, body = request(
            "POST",
            "/api/leads/upload/",
            {"Content-Length": str(settings.IMPORT_MAX_FILE_BYTES + 2 * 2**20)},
        )
        assert status == 413 and json.loads(body)["code"] == "too_large"

        status, headers, body = request("GET", "/api/health/", {})
        assert status == 503 and headers.get("Retry-After") == "5"
        assert json.loads(body)["code"] == "service_unavailable"
