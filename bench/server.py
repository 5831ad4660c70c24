"""The web server the benchmarks measure: gunicorn on a free loopback port, started, waited
for (its health check answers) and stopped, whatever happens in between."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/api/health/")
        return connection.getresponse().status == 200
    finally:
        connection.close()


@contextmanager
def gunicorn(*, env: dict, workers: int, options: tuple[str, ...] = ()) -> Iterator[tuple]:
    """(port, process) of `crm.wsgi` under gunicorn with `workers` workers and `options`."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "crm.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--log-level", "warning", *options]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError("the server exited during startup")
            try:
                if _healthy(port):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start in time")
            time.sleep(0.2)
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()  # a worker still busy with an abandoned request
            process.wait(timeout=30)
