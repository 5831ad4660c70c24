"""Login floods: repeated failures per client address and per e-mail get a 429 with
Retry-After, refused attempts cost no password hash, and unknown e-mails cost the same
hashing as known ones (counted, not timed)."""

import os
from unittest import mock

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import override_settings
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.people.helpers import login

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def _count_hashes():
    original = MD5PasswordHasher.encode
    calls = []

    def counting(self, password, salt):
        calls.append(1)
        return original(self, password, salt)

    return calls, mock.patch.object(MD5PasswordHasher, "encode", counting)


@override_settings(LOGIN_FAILURES_PER_EMAIL=3, LOGIN_FAILURES_PER_ADDRESS=1000)
def test_failures_for_one_email_get_429_without_hashing():
    user = UserFactory()
    for _ in range(3):
        assert login(user.email, "wrong").status_code == 401

    calls, patch = _count_hashes()
    with patch:
        refused = [login(user.email, PASSWORD) for _ in range(20)]

    assert {r.status_code for r in refused} == {429}
    assert int(refused[0]["Retry-After"]) > 0
    assert refused[0].json()["code"] == "throttled"
    assert calls == []  # not a single password hash for 20 refused attempts
    # Another address's e-mail is not locked by these failures.
    assert login(UserFactory().email, PASSWORD).status_code == 200


@override_settings(LOGIN_FAILURES_PER_EMAIL=1000, LOGIN_FAILURES_PER_ADDRESS=5)
def test_failures_from_one_address_get_429_across_emails():
    for n in range(5):
        assert login(f"spray{n}@example.com", "wrong").status_code == 401
    user = UserFactory()
    assert login(user.email, PASSWORD).status_code == 429
    other_client = APIClient(REMOTE_ADDR="10.9.8.7")
    answer = other_client.post("/api/auth/token/", {"email": user.email, "password": PASSWORD})
    assert answer.status_code == 200


@override_settings(LOGIN_FAILURES_PER_EMAIL=3)
def test_a_successful_login_clears_the_email_counter():
    user = UserFactory()
    for _ in range(2):
        login(user.email, "wrong")
    assert login(user.email, PASSWORD).status_code == 200
    for _ in range(2):
        assert login(user.email, "wrong").status_code == 401


def test_unknown_and_known_emails_cost_the_same_hashing():
    user = UserFactory()
    inactive = UserFactory(is_active=False)
    counts = {}
    for label, email in [
        ("known", user.email),
        ("inactive", inactive.email),
        ("unknown", "no.such.person@example.com"),
    ]:
        calls, patch = _count_hashes()
        with patch:
            assert login(email, "wrong-password").status_code == 401
        counts[label] = len(calls)
    assert counts == {"known": 1, "inactive": 1, "unknown": 1}


@override_settings(LOGIN_FAILURES_PER_EMAIL=2, LOGIN_FAILURES_PER_ADDRESS=1000)
def test_counters_are_shared_through_redis(settings):
    import redis

    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/4")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis not reachable at {url}")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    from django.core.cache import cache

    cache.clear()
    try:
        user = UserFactory()
        for _ in range(2):
            assert login(user.email, "wrong").status_code == 401
        assert login(user.email, PASSWORD).status_code == 429
        keys = redis.Redis.from_url(url).keys("*auth:login:email:*")
        assert keys and not any(user.email.encode() in key for key in keys)
    finally:
        cache.clear()
