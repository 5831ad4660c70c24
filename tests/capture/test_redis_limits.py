"""With CACHE_URL pointing at Redis the rate-limit counters live there, shared by every
process. Uses Redis DB 4 on 127.0.0.1 (REDIS_TEST_URL to override); skipped when Redis
is not reachable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.capture.conftest import FROZEN_NOW
from tests.capture.factories import ApiKeyFactory

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/4")
ROOT = Path(__file__).resolve().parents[2]
SITE = "/api/leads/create-from-site/"
REDIS_CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    return client


@pytest.mark.django_db
@override_settings(
    CACHES=REDIS_CACHES, CAPTURE_RATE_LIMIT_PER_KEY=3, CAPTURE_RATE_LIMIT_PER_ADDRESS=1000
)
def test_per_key_limit_is_shared_with_another_process(org, redis_client):
    api_key = ApiKeyFactory(org=org)
    try:
        # Another process, configured through CACHE_URL, spends two of the key's three.
        # Same frozen clock as this process (tests/capture/conftest.py): same window.
        script = (
            "import django; django.setup(); from capture import throttling; "
            "throttling.time = type('Clock', (), "
            f"{{'time': staticmethod(lambda: {FROZEN_NOW!r})}}); "
            f"print([throttling.hit('key', {str(api_key.pk)!r}, 3) for _ in range(2)])"
        )
        other = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "CACHE_URL": REDIS_URL, "DJANGO_SETTINGS_MODULE": "crm.settings"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert other.stdout.strip() == "[None, None]", other.stderr
        url = f"{SITE}?apikey={api_key.secret}"
        first = APIClient().post(url, {"first_name": "A", "last_name": "B"}, format="json")
        second = APIClient().post(url, {"first_name": "C", "last_name": "D"}, format="json")
        assert (first.status_code, second.status_code) == (201, 429)
        assert int(second["Retry-After"]) >= 1
    finally:
        for key in redis_client.scan_iter(f"*capture:rate:key:{api_key.pk}:*"):
            redis_client.delete(key)
