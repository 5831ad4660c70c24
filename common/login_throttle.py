"""Failed-login counters per client address and per e-mail, in the shared cache (Redis when
CACHE_URL is set, so every process counts together).

Only failures count, in fixed windows. Once a counter is over its limit, attempts are
refused before any password is checked, so a flood of guesses costs a cache read each,
not a password hash. The same counters guard every place that checks a password.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

from common.addresses import client_address

__all__ = ["client_address", "failure_record", "retry_after", "success_record"]


def _window() -> tuple[int, float]:
    now = time.time()
    return int(now // settings.LOGIN_FAILURE_WINDOW_SECONDS), now


def _keys(scope: str, address: str, email: str, window: int) -> dict[str, int]:
    """Cache key -> limit. The e-mail is hashed: no addresses in the cache."""
    digest = hashlib.sha256((email or "").strip().lower().encode("utf-8")).hexdigest()
    keys = {f"auth:{scope}:addr:{address}:{window}": settings.LOGIN_FAILURES_PER_ADDRESS}
    if email:
        keys[f"auth:{scope}:email:{digest}:{window}"] = settings.LOGIN_FAILURES_PER_EMAIL
    return {key: limit for key, limit in keys.items() if limit > 0}


def retry_after(*, address: str, email: str, scope: str = "login") -> int | None:
    """Seconds until the window resets when a counter is at its limit, else None."""
    window, now = _window()
    keys = _keys(scope, address, email, window)
    counts = cache.get_many(list(keys))
    if any(counts.get(key, 0) >= limit for key, limit in keys.items()):
        seconds = settings.LOGIN_FAILURE_WINDOW_SECONDS
        return max(1, math.ceil((window + 1) * seconds - now))
    return None


def failure_record(*, address: str, email: str, scope: str = "login") -> None:
    window, _ = _window()
    timeout = settings.LOGIN_FAILURE_WINDOW_SECONDS + 5
    for key in _keys(scope, address, email, window):
        # add() is a no-op when the counter exists; incr() is atomic in Redis and locmem.
        cache.add(key, 0, timeout=timeout)
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=timeout)


def success_record(*, address: str, email: str, scope: str = "login") -> None:
    """A correct password clears the e-mail's counter (the address keeps its own)."""
    window, _ = _window()
    keys = [key for key in _keys(scope, address, email, window) if ":email:" in key]
    cache.delete_many(keys)
