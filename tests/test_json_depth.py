"""Deeply nested JSON is a 400 on every JSON endpoint, never a 500 (the decoder's
recursion limit) nor a slow walk through validation."""

import pytest
from rest_framework.test import APIClient

from tests.capture.factories import ApiKeyFactory
from tests.conftest import client_for
from tests.routes import all_routes

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000
JUST_TOO_DEEP = '{"a": ' * 40 + "1" + "}" * 40


def _post(client, url, body):
    return client.generic("POST", url, body, content_type="application/json")


@pytest.mark.parametrize("body", [DEEP, JUST_TOO_DEEP], ids=["100k", "40"])
def test_login_refuses_deep_json(body):
    answer = _post(APIClient(), "/api/auth/token/", body)
    assert answer.status_code == 400
    assert answer.json()["code"] == "parse_error"


def test_every_json_post_route_refuses_deep_json(admin_membership, org):
    client = client_for(admin_membership)
    api_key = ApiKeyFactory(org=org)
    checked = []
    for route in all_routes():
        if "POST" not in route.methods or not route.path.startswith("/api/"):
            continue
        url = route.url(**{name: "00000000-0000-0000-0000-000000000000" for name in route.params})
        if "create-from-site" in url:
            url += f"?apikey={api_key.prefix}"
        answer = _post(client, url, DEEP)
        assert answer.status_code < 500, (url, answer.status_code)
        if answer.status_code == 400:
            checked.append(url)
    # Routes that parse a JSON body answer 400; the others refuse earlier (404, 415, 401).
    assert "/api/leads/" in checked
    assert "/api/invitations/" in checked
    assert "/api/auth/password-reset/" in checked


def test_shallow_json_still_works(admin_client):
    answer = admin_client.post(
        "/api/leads/", {"first_name": "A", "last_name": "B", "tags": ["x"]}, format="json"
    )
    assert answer.status_code == 201
