"""Database or cache unreachable: 503 with Retry-After and one log line, never a 500 with a
traceback; the capture rate limiter fails open (a visitor's submission is never lost)."""

import logging

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from rest_framework.test import APIClient

from leads.models import Lead
from tests.capture.factories import ApiKeyFactory
from tests.durability.services import free_port

SITE = "/api/leads/create-from-site/"


def _dead_redis_cache() -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def _error_lines(caplog):
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_database_unavailable_is_503_with_retry_after_and_one_log_line(
    admin_client, monkeypatch, caplog
):
    def down(*args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')

    monkeypatch.setattr("leads.api.views.LeadViewSet.list", down)
    caplog.set_level(logging.INFO)
    response = admin_client.get("/api/leads/")

    assert response.status_code == 503
    assert response["Retry-After"] == str(django_settings.SERVICE_UNAVAILABLE_RETRY_AFTER)
    assert response.json()["code"] == "service_unavailable"
    assert set(response.json()) == {"code", "detail", "fields"}
    lines = _error_lines(caplog)
    assert len(lines) == 1 and lines[0].name == "common.unavailable"
    assert lines[0].exc_info is None and "database unavailable" in lines[0].getMessage()


def test_cache_unavailable_is_503(admin_client, monkeypatch, caplog):
    import redis

    def down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr("leads.api.views.LeadViewSet.list", down)
    response = admin_client.get("/api/leads/")
    assert response.status_code == 503 and response.has_header("Retry-After")
    assert "cache" in response.json()["detail"]


@pytest.mark.django_db
def test_capture_with_the_cache_down_is_accepted_and_warned_once(org, settings, caplog):
    settings.CACHES = _dead_redis_cache()
    settings.CAPTURE_RATE_LIMIT_PER_KEY = 1
    api_key = ApiKeyFactory(org=org)
    caplog.set_level(logging.WARNING)
    from capture import throttling

    throttling._last_warning[0] = 0.0

    answers = [
        APIClient().post(
            f"{SITE}?apikey={api_key.secret}",
            {"first_name": "A", "last_name": str(n), "email": f"a{n}@example.com"},
            format="json",
        )
        for n in range(3)
    ]

    # Fail open: every submission is kept, even past the (unenforceable) limit of 1.
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert Lead.objects.for_org(org).count() == 3
    warnings = [r for r in _error_lines(caplog) if r.name == "capture.throttling"]
    assert len(warnings) == 1 and "cache unavailable" in warnings[0].getMessage()


@pytest.mark.django_db
def test_health_reports_the_cache(settings):
    ok = APIClient().get("/api/health/")
    assert ok.status_code == 200 and ok.json()["cache"] == "ok"

    settings.CACHES = _dead_redis_cache()
    down = APIClient().get("/api/health/")
    assert down.status_code == 503
    assert down.json()["cache"].startswith("error: ") and down.json()["status"] == "unavailable"


def test_pooled_connections_are_checked_before_reuse():
    assert django_settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
