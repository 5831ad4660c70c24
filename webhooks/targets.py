"""Where a webhook may go, and the one HTTP POST that goes there.

A receiver's host is resolved, every address it resolves to is checked, and the connection is
made to the address that was checked (the `Host` header and TLS name stay the URL's), so a
DNS answer that changes between the check and the connection (rebinding) cannot reach an
internal address. Redirects are not followed, the whole exchange has one deadline, and only
the first bytes of the answer are read.

The standard library's http.client does this in a few lines: its connections take the
address to connect to apart from the host name, and it never follows redirects.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class TargetRefused(Exception):
    """The URL may not be used as a receiver (its message is safe to show the admin)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP address the connection goes to


def _split(url: str):
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise TargetRefused("Only http and https URLs can receive webhooks.")
    if not parts.hostname:
        raise TargetRefused("The URL has no host.")
    if parts.username or parts.password:
        raise TargetRefused("Credentials in the URL are not allowed.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise TargetRefused("The URL's port is not valid.") from error
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def target_resolve(url: str) -> Target:
    """Resolve and check `url`; raise TargetRefused if it may not receive webhooks."""
    scheme, host, port, path = _split(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise TargetRefused(f"The host {host} could not be resolved.") from error
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise TargetRefused(f"The host {host} could not be resolved.")
    # Every address must be public: a name that also points inside is refused whole.
    if not settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS and not all(map(_is_public, addresses)):
        raise TargetRefused(
            "The URL resolves to a private, loopback or link-local address, "
            "which may not receive webhooks."
        )
    return Target(scheme, host, port, path, addresses[0])


def target_check(url: str) -> None:
    """The check at subscription time. With private targets allowed there is nothing to
    refuse, so the host is not resolved then (it is at every send)."""
    _split(url)
    if not settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS:
        target_resolve(url)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # Certificate checked against the URL's host name, not the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def target_post(*, target: Target, body: bytes, headers: dict, timeout: float) -> Answer:
    """POST `body`; the answer's status and at most WEBHOOKS_RESPONSE_MAX_BYTES of its body.

    Raises OSError (or http.client.HTTPException) when the receiver cannot be reached or
    does not answer within `timeout` seconds in all."""
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = cls(target, timeout)
    expired = threading.Event()

    def abort():
        # A receiver trickling its answer byte by byte would outlast every per-read
        # timeout: at the deadline the socket is shut, whatever is in progress.
        expired.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(timeout, abort)
    timer.daemon = True
    started = time.monotonic()
    timer.start()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read(settings.WEBHOOKS_RESPONSE_MAX_BYTES)
        if expired.is_set():
            raise TimeoutError(f"no complete answer within {timeout:g} s")
        return Answer(response.status, data)
    except (OSError, http.client.HTTPException) as error:
        if expired.is_set() or time.monotonic() - started >= timeout:
            raise TimeoutError(f"no answer within {timeout:g} s") from error
        raise
    finally:
        timer.cancel()
        connection.close()
