"""A real HTTP receiver on loopback for the webhook tests: records every request and answers
what the test scripts (a status, a delay, a redirect)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict
    body: bytes
    at: float


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    # Statuses answered in turn; when empty, `default_status`.
    script: list[int] = field(default_factory=list)
    default_status: int = 200
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def ids(self) -> list[str]:
        with self.lock:
            return [r.headers["webhook-id"] for r in self.received]

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"received {len(self.received)} of {count} requests")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_receiver() -> Receiver:
    holder: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            receiver = holder["receiver"]
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.received.append(
                    Received(
                        {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()
                    )
                )
                status = receiver.script.pop(0) if receiver.script else receiver.default_status
            if receiver.delay:
                time.sleep(receiver.delay)
            self.send_response(status)
            if status in (301, 302, 307, 308):
                self.send_header("Location", receiver.url + "/elsewhere")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server)
    holder["receiver"] = receiver
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
