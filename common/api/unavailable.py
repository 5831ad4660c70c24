"""503 with Retry-After when the database or the cache cannot be reached.

Such a failure is not a bug in the request: the client should come back in a few seconds.
One warning line per failed request, no traceback (an outage would otherwise flood the
logs with identical ones)."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

from common.api.errors import error_body

logger = logging.getLogger("common.unavailable")

try:  # the Redis client is present whenever a Redis cache or broker is configured
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    _CACHE_ERRORS: tuple = (RedisConnectionError, RedisTimeoutError)
except ImportError:  # pragma: no cover
    _CACHE_ERRORS = ()


def unavailable_service(exc: BaseException) -> str | None:
    if isinstance(exc, OperationalError | InterfaceError):
        return "database"
    if _CACHE_ERRORS and isinstance(exc, _CACHE_ERRORS):
        return "cache"
    return None


class ServiceUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        service = unavailable_service(exc)
        if service is None:
            return None
        logger.warning(
            "503 %s %s: %s unavailable (%s: %s)",
            request.method,
            request.path,
            service,
            type(exc).__name__,
            str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "",
        )
        if service == "database":
            # The broken connection is dropped so the next request opens a fresh one.
            from django.db import connection

            connection.close_if_unusable_or_obsolete()
        retry_after = settings.SERVICE_UNAVAILABLE_RETRY_AFTER
        response = JsonResponse(
            error_body(
                "service_unavailable",
                f"The service's {service} is unavailable; retry in {retry_after} seconds.",
            ),
            status=503,
        )
        response["Retry-After"] = str(retry_after)
        response._has_been_logged = True  # the line above is the one log line
        return response
