"""Rate limits for the public capture endpoint, kept in the Django cache so they hold across
processes (locmem by default; Redis when CACHE_URL is set).

Fixed one-minute windows: simple, one cache round-trip per check, and `Retry-After` is the
time left in the window.
"""

import logging
import math
import time

from django.core.cache import cache

from common.addresses import client_address

WINDOW_SECONDS = 60
logger = logging.getLogger(__name__)
# One warning per process and minute while the cache is down, not one per request.
_last_warning = [0.0]


def hit(scope: str, identity: str, limit: int) -> int | None:
    """Count one request; None if allowed, else the seconds until the window resets.

    With the cache unreachable the request is allowed (fail open, with a warning): losing a
    visitor's submission is worse than a minute without rate limits."""
    if limit <= 0:
        return None
    try:
        return _count(scope, identity, limit)
    except Exception as error:  # noqa: BLE001 - any cache failure: fail open
        now = time.monotonic()
        if now - _last_warning[0] >= WINDOW_SECONDS:
            _last_warning[0] = now
            logger.warning(
                "Capture rate limits not applied: cache unavailable (%s).", type(error).__name__
            )
        return None


def _count(scope: str, identity: str, limit: int) -> int | None:
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = f"capture:rate:{scope}:{identity}:{window}"
    # add() is a no-op when the counter exists; incr() is atomic in Redis and locmem.
    cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=WINDOW_SECONDS + 5)
        count = 1
    if count <= limit:
        return None
    return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))


__all__ = ["client_address"]
