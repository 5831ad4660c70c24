"""The production serving stack on loopback: gunicorn (deploy/gunicorn.conf.py)
and nginx (deploy/nginx/crm.conf.template, rendered as the container renders it), each started
on a free port in its own process group and stopped, with all its children, afterwards.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from http.client import HTTPConnection
from pathlib import Path

from django.conf import settings

DEPLOY = Path(settings.BASE_DIR) / "deploy"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, *, headers=None, timeout: float = 5.0):
    """One GET on a fresh connection: (status, body bytes)."""
    connection = HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _wait_until_up(port: int, process: subprocess.Popen, log: Path, what: str, *, healthy: bool):
    """Until the port answers (`healthy`: /api/health/ answers 200), or fail with the log."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with suppress(OSError):
            if not healthy:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            if get(port, "/api/health/", timeout=2)[0] == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not come up\n--- log ---\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen, stop_signal: int) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, stop_signal)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
    # Whatever is left of the group (workers of a master that died first) goes too.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


@contextmanager
def gunicorn(*, env: dict, log: Path, workers: int = 2, options: tuple[str, ...] = ()):
    """gunicorn with the production configuration file (and `options` over it), on a free
    loopback port."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-c",
        str(DEPLOY / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        *options,
    ]
    process = subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_until_up(port, process, log, "gunicorn", healthy=True)
        yield port
    finally:
        # SIGQUIT: gunicorn's quick shutdown (no graceful wait for held requests).
        _stop(process, signal.SIGQUIT)


@contextmanager
def nginx(*, upstream_port: int, log: Path):
    """nginx with the repository's configuration, rendered for loopback, its prefix (pid,
    temporary files) in a temporary directory. Its workers may run as `nobody`, so the
    directory is readable by all."""
    port = free_port()
    prefix = Path(tempfile.mkdtemp(prefix="crm-proxy-"))
    try:
        prefix.chmod(0o755)
        subprocess.run(
            [
                sys.executable,
                str(DEPLOY / "nginx" / "render.py"),
                "--listen",
                f"127.0.0.1:{port}",
                "--upstream",
                f"127.0.0.1:{upstream_port}",
                str(prefix / "nginx.conf"),
            ],
            check=True,
        )
        process = subprocess.Popen(
            [nginx_binary(), "-p", f"{prefix}/", "-c", "nginx.conf", "-g", "daemon off;"],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until_up(port, process, log, "nginx", healthy=False)
            yield port
        finally:
            # SIGTERM: nginx's fast shutdown, closing the connections it holds.
            _stop(process, signal.SIGTERM)
    finally:
        shutil.rmtree(prefix, ignore_errors=True)
