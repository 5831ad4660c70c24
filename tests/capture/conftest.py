import time

import pytest
from django.core.cache import cache

from capture import throttling

# A fixed instant in the middle of a rate-limit window: a test's requests never straddle
# a window boundary (which would reset the counters and make limits look unenforced).
FROZEN_NOW = (time.time() // throttling.WINDOW_SECONDS) * throttling.WINDOW_SECONDS + 30


class _FrozenClock:
    @staticmethod
    def time():
        return FROZEN_NOW


@pytest.fixture(autouse=True)
def _fresh_rate_limits(monkeypatch):
    # Counters live in the (process-wide) cache: every test starts from zero.
    monkeypatch.setattr(throttling, "time", _FrozenClock)
    cache.clear()
    yield
    cache.clear()
