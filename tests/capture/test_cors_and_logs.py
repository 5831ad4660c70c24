import logging

import pytest
from rest_framework.test import APIClient

from capture.logging import scrub
from leads.models import Lead
from tests.capture.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db

SITE = "/api/leads/create-from-site/"
ALLOWED = "https://www.example.com"


def preflight(url, origin, headers="content-type"):
    return APIClient().options(
        url,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def test_preflight_with_key_in_url_grants_only_that_keys_origins(org):
    api_key = ApiKeyFactory(org=org, allowed_origins=[ALLOWED])
    ApiKeyFactory(org=org, allowed_origins=["https://other-site.example"])
    granted = preflight(f"{SITE}?apikey={api_key.secret}", ALLOWED)
    assert granted.status_code in {200, 204}
    assert granted["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in granted["Access-Control-Allow-Methods"]
    assert "content-type" in granted["Access-Control-Allow-Headers"]
    assert "Origin" in granted["Vary"]
    # An origin allowed only on ANOTHER key is refused for this key.
    for origin in ["https://other-site.example", "https://evil.example", "null"]:
        denied = preflight(f"{SITE}?apikey={api_key.secret}", origin)
        assert "Access-Control-Allow-Origin" not in denied, origin


def test_preflight_without_key_grants_origins_of_active_keys_only(org, other_org):
    ApiKeyFactory(org=org, allowed_origins=[ALLOWED])
    revoked = ApiKeyFactory(org=other_org, allowed_origins=["https://gone.example"])
    revoked.revoked_on = revoked.created_on
    revoked.save()
    assert (
        preflight(SITE, ALLOWED, "content-type, x-api-key")["Access-Control-Allow-Origin"]
        == ALLOWED
    )
    assert "Access-Control-Allow-Origin" not in preflight(SITE, "https://gone.example")
    assert "Access-Control-Allow-Origin" not in preflight(SITE, "https://evil.example")
    assert "Access-Control-Allow-Origin" not in preflight(f"{SITE}?apikey=lk_wrong", ALLOWED)


def test_jwt_api_cors_config_does_not_answer_for_the_capture_path(org, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://spa.example"]
    response = preflight(SITE, "https://spa.example")
    assert "Access-Control-Allow-Origin" not in response


def test_actual_post_exposes_the_answer_only_to_allowed_origins(org):
    api_key = ApiKeyFactory(org=org, allowed_origins=[ALLOWED])
    ok = APIClient().post(
        SITE,
        {"first_name": "A", "last_name": "B"},
        format="json",
        HTTP_X_API_KEY=api_key.secret,
        HTTP_ORIGIN=ALLOWED,
    )
    assert (ok.status_code, ok["Access-Control-Allow-Origin"]) == (201, ALLOWED)
    bad_key = APIClient().post(
        SITE,
        {"first_name": "A", "last_name": "B"},
        format="json",
        HTTP_X_API_KEY="lk_nope",
        HTTP_ORIGIN=ALLOWED,
    )
    assert bad_key.status_code == 401
    assert "Access-Control-Allow-Origin" not in bad_key
    assert Lead.objects.for_org(org).count() == 1


def test_key_never_reaches_the_request_log(org, caplog):
    api_key = ApiKeyFactory(org=org)
    secret = api_key.secret
    with caplog.at_level(logging.INFO):
        bad = APIClient().post(f"{SITE}?apikey={secret}&x=1", {"first_name": ""}, format="json")
        assert bad.status_code == 400
        # What runserver and gunicorn print for every request:
        logging.getLogger("django.server").info(
            '"%s" %s %s', f"POST {SITE}?apikey={secret}&x=1 HTTP/1.1", "400", "85"
        )
        logging.getLogger("gunicorn.access").info(
            '%(h)s "%(r)s" %(s)s',
            {"h": "127.0.0.1", "r": f"POST {SITE}?apikey={secret}", "s": "201"},
        )
        logging.getLogger("django.request").warning("Bad Request: %s", f"{SITE}?apikey={secret}")
    assert secret not in caplog.text
    assert secret[:20] not in caplog.text
    assert "apikey=[redacted]" in caplog.text


def test_scrub_handles_header_style_and_bare_secrets():
    secret = "lk_" + "a1B2" * 10
    assert secret not in scrub(f"X-API-Key: {secret}")
    assert secret not in scrub(f"sent {secret} twice")
    assert scrub("GET /api/orgs/?limit=5") == "GET /api/orgs/?limit=5"
