"""Services of their own for the fault tests: a Redis server, a PostgreSQL cluster, Celery
workers and the relay, each started on a free loopback port and stopped by the test. The
machine's shared PostgreSQL and Redis are never stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent

# Short upkeep intervals: recovery is measured in seconds, not the production defaults.
FAST_UPKEEP = {
    "OUTBOX_RELAY_INTERVAL_SECONDS": "0.2",
    "OUTBOX_RELAY_GRACE_SECONDS": "0",
    "OUTBOX_RETRY_MAX_SECONDS": "1",
    "OUTBOX_REDELIVER_SECONDS": "2",
    "IMPORT_HEARTBEAT_SECONDS": "0.5",
    "IMPORT_STALL_SECONDS": "3",
    "IMPORT_SWEEP_SECONDS": "0.5",
    "IMPORT_REQUEUE_SECONDS": "1",
    "IMPORT_RETRY_MAX_SECONDS": "2",
    "CELERY_VISIBILITY_TIMEOUT": "3600",  # recovery must not rely on it
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, logs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    tails = "".join(
        f"\n--- {log.name} ---\n{log.read_text(errors='replace')[-2500:]}"
        for log in logs
        if Path(log).exists()
    )
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{tails}")


class RedisServer:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, 10, "redis-server to start")

    def ping(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.exceptions.ConnectionError:
            return False

    def kill(self) -> None:
        """Killed with its data (it keeps none on disk): a restart starts empty."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def database_url(name: str | None = None) -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{name or db['NAME']}"


def service_env(*, broker: str, database: str, mail_dir: Path, **extra) -> dict:
    return {
        **os.environ,
        **FAST_UPKEEP,
        "DATABASE_URL": database,
        "CELERY_BROKER_URL": broker,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "FAST_PASSWORD_HASHING": "true",
        **{key: str(value) for key, value in extra.items()},
    }


def start_process(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as a whole
    )


def start_worker(env: dict, log: Path, queues: str = "imports,notifications", pool="solo"):
    args = [
        str(BIN / "celery"),
        "-A",
        "crm",
        "worker",
        "-Q",
        queues,
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    args += ["-P", "solo"] if pool == "solo" else ["-P", "prefork", "-c", "1"]
    return start_process(args, env, log)


def start_relay(env: dict, log: Path) -> subprocess.Popen:
    return start_process([sys.executable, "manage.py", "outbox_relay"], env, log)


def stop(process: subprocess.Popen | None, sig=signal.SIGKILL, timeout: float = 15) -> None:
    if process is not None and process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def mails(mail_dir: Path) -> list[str]:
    if not mail_dir.exists():
        return []
    return [path.read_text(errors="replace") for path in sorted(mail_dir.iterdir())]


class PostgresCluster:
    """A PostgreSQL 15 cluster of the test's own (pg_createcluster), dropped afterwards."""

    def __init__(self):
        self.port = free_port()
        self.name = f"crmfault{self.port}"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create(self) -> None:
        # A throwaway cluster: no fsync (initdb's nor the server's) keeps it quick.
        subprocess.run(
            [
                "pg_createcluster",
                "15",
                self.name,
                "-p",
                str(self.port),
                "-o",
                "fsync=off",
                "-o",
                "full_page_writes=off",
                "-o",
                "shared_buffers=32MB",
                "--",
                "--auth-host=trust",
                "--auth-local=trust",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        self.start()

    def start(self) -> None:
        subprocess.run(["pg_ctlcluster", "15", self.name, "start"], check=True, capture_output=True)
        wait_for(self.ready, 30, "the PostgreSQL cluster")

    def stop(self) -> None:
        subprocess.run(
            ["pg_ctlcluster", "15", self.name, "stop", "-m", "fast"],
            check=True,
            capture_output=True,
        )

    def ready(self) -> bool:
        return (
            subprocess.run(
                ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)], check=False
            ).returncode
            == 0
        )

    def drop(self) -> None:
        subprocess.run(
            ["pg_dropcluster", "--stop", "15", self.name], check=False, capture_output=True
        )

    def copy_schema(self, source_url: str, database: str) -> None:
        """The test database's schema (already migrated): faster than running migrations."""
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", database],
            check=True,
            capture_output=True,
        )
        dump = subprocess.run(
            ["pg_dump", "--schema-only", "--no-owner", source_url], check=True, capture_output=True
        )
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", self.url(database)],
            input=dump.stdout,
            check=True,
            capture_output=True,
        )

    def query(self, database: str, sql: str, params=()):
        import psycopg2

        conn = psycopg2.connect(self.url(database), connect_timeout=2)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            conn.close()


def require_real_services(what: str) -> None:
    """Skip outside PostgreSQL with a Redis for the tests; in CI, fail instead of skipping."""
    import shutil

    import pytest
    from django.db import connection

    if not os.environ.get("CELERY_TEST_BROKER_URL") or connection.vendor != "postgresql":
        if os.environ.get("CI", "").lower() == "true" and connection.vendor == "postgresql":
            pytest.fail("CELERY_TEST_BROKER_URL must be set in CI")
        pytest.skip(f"{what} need PostgreSQL and Redis (CELERY_TEST_BROKER_URL)")
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed")
