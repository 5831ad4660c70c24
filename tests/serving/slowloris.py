"""Clients that send their requests a byte at a time and never finish until told to.

Half are genuine slow uploads (an import file over a bad connection: whole headers with a
valid token, then the body trickling); half need no login and never finish their headers.
Both kinds hold a gunicorn sync worker each when they reach it directly.
"""

import select
import socket
import threading
import uuid
from contextlib import suppress

TICK = 0.25  # seconds between two bytes on each connection


def multipart_upload(*, host: str, token: str, org_id, csv_text: str) -> tuple[bytes, bytes]:
    """(headers, body) of `POST /api/leads/upload/` with `csv_text` as the file."""
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="leads_file"; filename="leads.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
        f"{csv_text}\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    headers = (
        "POST /api/leads/upload/ HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"organization-id: {org_id}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    return headers, body


class _Slow:
    def __init__(self, port: int, sent: bytes, pending: bytes, *, upload: bool):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(sent)
        self.pending = pending
        self.upload = upload

    def trickle(self) -> None:
        # The last byte is held back: the request is never complete before release().
        if len(self.pending) > 1:
            self.sock.send(self.pending[:1])
            self.pending = self.pending[1:]


class Slowloris:
    def __init__(self, port: int, *, uploads: list[tuple[bytes, bytes]], header_only: int):
        self.clients: list[_Slow] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        try:
            for headers, body in uploads:
                self.clients.append(_Slow(port, headers, body, upload=True))
            never_done = f"POST /api/leads/upload/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            for _ in range(header_only):
                self.clients.append(
                    _Slow(port, never_done.encode(), b"X-Slow: " + b"a" * 4000, upload=False)
                )
        except BaseException:
            self.close()
            raise
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            for client in self.clients:
                with suppress(OSError):
                    client.trickle()

    def still_waiting(self) -> int:
        """Connections with nothing to read: neither answered nor closed by the server."""
        readable, _, _ = select.select([client.sock for client in self.clients], [], [], 0)
        return len(self.clients) - len(readable)

    def release(self, timeout: float) -> list[int]:
        """Stop trickling, finish the uploads and return their status codes; the clients that
        never sent their headers just go away."""
        self._stop.set()
        self._thread.join()
        statuses = []
        for client in self.clients:
            if client.upload:
                client.sock.sendall(client.pending)
        for client in self.clients:
            if client.upload:
                client.sock.settimeout(timeout)
                statuses.append(_status(client.sock))
        self.close()
        return statuses

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        for client in self.clients:
            with suppress(OSError):
                client.sock.close()


def _status(sock: socket.socket) -> int:
    """The status code of the answer (the server closes after it: Connection: close)."""
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
