"""Website capture benchmark: `python -m bench capture`.

Starts gunicorn (one sync worker) on a free loopback port against a temporary SQLite
database (or DATABASE_URL when set), migrates, provisions an organization, an API key and an
assignment rule, then measures, sequentially from one client:

- POST /api/leads/create-from-site/ requests per second (median of ROUNDS rounds);
- GET /api/orgs/ with a JWT (a trivial authenticated endpoint) per-request latency;
- the API key check itself (SHA-256 + indexed lookup), in microseconds, in-process against
  the same database, and its share of both requests.

Rate limits are lifted through the environment for the run. Every loop is bounded.
"""

import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.database import ensure_postgres_database
from bench.server import gunicorn

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("BENCH_CAPTURE_ROUNDS", "5"))
REQUESTS_PER_ROUND = int(os.environ.get("BENCH_CAPTURE_REQUESTS", "200"))
KEY_CHECKS = int(os.environ.get("BENCH_CAPTURE_KEY_CHECKS", "2000"))


def _request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        payload = response.read()
        return response.status, payload
    finally:
        connection.close()


def _timed_rounds(label, call):
    rates, latencies = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for n in range(REQUESTS_PER_ROUND):
            call(n)
        elapsed = time.perf_counter() - started
        rates.append(REQUESTS_PER_ROUND / elapsed)
        latencies.append(elapsed / REQUESTS_PER_ROUND * 1e6)
    print(
        f"{label}: median {statistics.median(rates):.1f} req/s "
        f"(rounds: {', '.join(f'{rate:.0f}' for rate in rates)}), "
        f"median latency {statistics.median(latencies):.0f} us",
        flush=True,
    )
    return statistics.median(rates), statistics.median(latencies)


def _key_check_microseconds(secret: str) -> tuple[float, float]:
    import django

    django.setup()
    from capture.keys import api_key_resolve, key_hash

    assert api_key_resolve(secret) is not None
    started = time.perf_counter()
    for _ in range(KEY_CHECKS):
        key_hash(secret)
    hash_only = (time.perf_counter() - started) / KEY_CHECKS * 1e6
    started = time.perf_counter()
    for _ in range(KEY_CHECKS):
        api_key_resolve(secret)
    full = (time.perf_counter() - started) / KEY_CHECKS * 1e6
    return hash_only, full


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-capture-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}",
        "CAPTURE_RATE_LIMIT_PER_KEY": "0",
        "CAPTURE_RATE_LIMIT_PER_ADDRESS": "0",
        "FAST_PASSWORD_HASHING": "1",
        "MEDIA_ROOT": str(workdir / "media"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(
        {
            k: env[k]
            for k in (
                "DATABASE_URL",
                "DJANGO_SETTINGS_MODULE",
                "CAPTURE_RATE_LIMIT_PER_KEY",
                "CAPTURE_RATE_LIMIT_PER_ADDRESS",
            )
        }
    )
    if env["DATABASE_URL"].startswith("postgres"):
        ensure_postgres_database(env["DATABASE_URL"])
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    email, password = f"bench-{uuid.uuid4().hex[:8]}@example.com", "bench-password-123"
    created = subprocess.run(
        [
            python,
            "manage.py",
            "create_organization",
            "--name",
            "Bench",
            "--admin-email",
            email,
            "--admin-password",
            password,
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    ids = json.loads(created.stdout.strip().splitlines()[-1])

    with gunicorn(env=env, workers=1) as (port, _):
        status, body = _request(
            port, "POST", "/api/auth/token/", {"email": email, "password": password}
        )
        assert status == 200, body
        jwt = {
            "Authorization": f"Bearer {json.loads(body)['access']}",
            "organization-id": ids["organization_id"],
        }
        status, body = _request(
            port,
            "POST",
            "/api/api-keys/",
            {"name": "bench", "allowed_origins": ["https://bench.example"]},
            jwt,
        )
        assert status == 201, body
        secret = json.loads(body)["key"]
        status, body = _request(
            port, "POST", "/api/assignment-rules/", {"name": "all", "users": [ids["user_id"]]}, jwt
        )
        assert status == 201, body

        run = uuid.uuid4().hex[:6]

        def create(n):
            status, payload = _request(
                port,
                "POST",
                f"/api/leads/create-from-site/?apikey={secret}",
                {
                    "first_name": "Bench",
                    "last_name": f"{run}-{n}",
                    "email": f"{run}-{time.perf_counter_ns()}@example.com",
                },
            )
            assert status == 201, payload

        def orgs(n):
            status, payload = _request(port, "GET", "/api/orgs/", headers=jwt)
            assert status == 200, payload

        print(
            f"gunicorn 1 sync worker, {ROUNDS} rounds x {REQUESTS_PER_ROUND} sequential "
            f"requests, database {env['DATABASE_URL'].split(':')[0]}",
            flush=True,
        )
        _, create_latency = _timed_rounds("create-from-site", create)
        _, orgs_latency = _timed_rounds("GET /api/orgs/ (JWT)", orgs)
    try:
        hash_only, key_check = _key_check_microseconds(secret)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"API key check: {key_check:.0f} us per hash+lookup (SHA-256 alone {hash_only:.1f} us)")
    print(
        f"key check / GET /api/orgs/ request: {key_check / orgs_latency:.1%}; "
        f"key check / create-from-site request: {key_check / create_latency:.1%}",
        flush=True,
    )
