import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

SPA = "https://app.example.com"


@pytest.fixture
def spa_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [SPA]


def _preflight(origin, path="/api/contacts/"):
    return APIClient().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, organization-id, content-type",
    )


def test_spa_origin_may_send_the_auth_and_organization_headers(spa_origin):
    response = _preflight(SPA)
    assert response["Access-Control-Allow-Origin"] == SPA
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "organization-id", "content-type"} <= allowed


def test_other_origins_get_no_cors_grant(spa_origin):
    assert "Access-Control-Allow-Origin" not in _preflight("https://evil.example")


def test_no_origin_is_allowed_by_default():
    assert "Access-Control-Allow-Origin" not in _preflight(SPA)


def test_health_reports_an_unreachable_broker(settings):
    # Nothing listens on port 9 of loopback: the readiness check must say so, quickly.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    from crm.celery import app

    original, app.conf.broker_url = app.conf.broker_url, settings.CELERY_BROKER_URL
    try:
        response = APIClient().get("/api/health/")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")
