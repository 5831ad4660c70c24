"""Authentication and organization membership, over every organization-scoped route."""

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.conftest import client_for
from tests.routes import org_scoped_routes

pytestmark = pytest.mark.django_db

ROUTES = org_scoped_routes()
LIST_ROUTES = [r for r in ROUTES if not r.params and "GET" in r.methods]


def _get(client, route, org):
    return client.get(route.url(), HTTP_ORGANIZATION_ID=str(org.pk))


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.path)
def test_no_token_is_401_on_every_route(route, org):
    url = route.url(**{name: "00000000-0000-0000-0000-000000000000" for name in route.params})
    for method in route.methods:
        response = getattr(APIClient(), method.lower())(url, HTTP_ORGANIZATION_ID=str(org.pk))
        assert response.status_code == 401, (method, url)
        assert response.json()["code"] == "not_authenticated"


def _bearer(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.mark.parametrize("route", LIST_ROUTES, ids=lambda r: r.path)
def test_bad_tokens_are_401(route, admin_membership):
    user, org = admin_membership.user, admin_membership.org
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=-timedelta(seconds=1))
    forged = jwt.encode(
        {"token_type": "access", "user_id": str(user.pk), "exp": 9999999999, "jti": "x"},
        "not-the-signing-key-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    refresh_as_access = RefreshToken.for_user(user)
    for token in (expired, forged, refresh_as_access, "garbage"):
        response = _get(_bearer(token), route, org)
        assert response.status_code == 401, token
        assert response.json()["code"] == "token_not_valid"


def test_valid_token_works(admin_membership):
    response = client_for(admin_membership).get("/api/users/")
    assert response.status_code == 200


def test_deactivated_user_is_401(admin_membership):
    client = client_for(admin_membership)
    admin_membership.user.is_active = False
    admin_membership.user.save()
    assert client.get("/api/users/").status_code == 401


@pytest.mark.parametrize("route", LIST_ROUTES, ids=lambda r: r.path)
def test_removed_or_inactive_membership_is_403_immediately(route, admin_membership):
    client = client_for(admin_membership)
    assert client.get(route.url()).status_code == 200
    admin_membership.is_active = False
    admin_membership.save()
    response = client.get(route.url())
    assert response.status_code == 403
    assert response.json()["code"] == "organization_forbidden"
    admin_membership.delete()
    assert client.get(route.url()).status_code == 403


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        (None, 400, "organization_header_missing"),
        ("not-a-uuid", 400, "organization_header_invalid"),
        ("7d5b3c4e-1111-4f7a-9c1d-000000000000", 403, "organization_forbidden"),
    ],
)
def test_organization_header_errors(admin_membership, header, status, code):
    response = client_for(admin_membership, org_header=header).get("/api/users/")
    assert response.status_code == status
    assert response.json()["code"] == code


def test_unknown_and_foreign_organizations_answer_identically(
    admin_membership, other_admin_membership
):
    unknown_id = "7d5b3c4e-1111-4f7a-9c1d-000000000000"
    unknown = client_for(admin_membership, org_header=unknown_id).get("/api/users/")
    foreign_id = other_admin_membership.org_id
    foreign = client_for(admin_membership, org_header=foreign_id).get("/api/users/")
    assert unknown.status_code == foreign.status_code == 403
    assert unknown.json() == foreign.json()


def test_login_refresh_rotation_and_blacklist(admin_membership):
    client = APIClient()
    email = admin_membership.user.email
    wrong = client.post("/api/auth/token/", {"email": email, "password": "nope"}, format="json")
    assert wrong.status_code == 401
    assert set(wrong.json()) == {"code", "detail", "fields"}
    tokens = client.post(
        "/api/auth/token/", {"email": email, "password": "correct-horse-battery"}, format="json"
    ).json()
    rotated = client.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert rotated.status_code == 200
    assert {"access", "refresh"} <= set(rotated.json())
    assert rotated.json()["refresh"] != tokens["refresh"]
    reused = client.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401
    fresh = _bearer(rotated.json()["access"])
    assert fresh.get("/api/orgs/").status_code == 200


def test_token_lifetimes_are_minutes_and_days():
    jwt_settings = settings.SIMPLE_JWT
    assert timedelta(minutes=1) <= jwt_settings["ACCESS_TOKEN_LIFETIME"] <= timedelta(hours=1)
    assert timedelta(days=1) <= jwt_settings["REFRESH_TOKEN_LIFETIME"] <= timedelta(days=30)
