"""A request id for every request: the caller's `X-Request-ID` when it is sane, otherwise a
new one. It is echoed on the response and carried by whatever the request changes (the
change log's `request_id`), so one id ties a client's call to its effects."""

import contextvars
import re
import uuid

HEADER = "X-Request-ID"
# Printable, no spaces, bounded: anything else is replaced rather than stored or echoed.
_SANE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,64}$")

_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_request_id() -> str:
    """The id of the request being served ('' outside a request: tasks, commands)."""
    return _current.get()


def request_id_from(value: str | None) -> str:
    value = (value or "").strip()
    return value if _SANE.match(value) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response
