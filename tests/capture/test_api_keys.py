import hashlib

import pytest
from rest_framework.test import APIClient

from capture.models import ApiKey
from tests.capture.factories import ApiKeyFactory
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

SITE = "/api/leads/create-from-site/"
PERSON = {"first_name": "Ada", "last_name": "Lovelace"}


def test_admin_creates_key_and_sees_the_secret_only_once(admin_client, user_membership, org):
    response = admin_client.post(
        "/api/api-keys/",
        {
            "name": "Main site",
            "allowed_origins": ["https://WWW.Example.com:443/"],
            "default_assigned_to": [str(user_membership.user_id)],
            "default_tags": ["web"],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    secret = body["key"]
    assert secret.startswith(body["prefix"])
    assert body["allowed_origins"] == ["https://www.example.com"]
    assert body["default_assigned_to"] == [str(user_membership.user_id)]

    stored = ApiKey.objects.for_org(org).get()
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    row_values = [str(value) for value in ApiKey.objects.for_org(org).values().get().values()]
    assert not any(secret in value for value in row_values)

    listed = admin_client.get("/api/api-keys/").json()
    detail = admin_client.get(f"/api/api-keys/{body['id']}/").json()
    assert "key" not in detail and secret not in str(listed) and secret not in str(detail)
    assert detail["prefix"] == body["prefix"]


def test_user_role_cannot_manage_keys(user_client, org):
    api_key = ApiKeyFactory(org=org)
    assert user_client.get("/api/api-keys/").status_code == 403
    assert user_client.post("/api/api-keys/", {"name": "x"}).status_code == 403
    assert user_client.post(f"/api/api-keys/{api_key.pk}/rotate/").status_code == 403
    assert user_client.get("/api/spam-submissions/").status_code == 403
    assert user_client.get("/api/assignment-rules/").status_code == 403


def test_default_assignees_must_be_members_and_thank_you_url_on_allowed_origin(
    admin_client, other_admin_membership
):
    response = admin_client.post(
        "/api/api-keys/",
        {"name": "x", "default_assigned_to": [str(other_admin_membership.user_id)]},
    )
    assert response.status_code == 400
    assert "default_assigned_to" in response.json()["fields"]
    response = admin_client.post(
        "/api/api-keys/",
        {
            "name": "x",
            "allowed_origins": ["https://a.example"],
            "thank_you_url": "https://evil.example/thanks",
        },
    )
    assert response.status_code == 400
    assert "thank_you_url" in response.json()["fields"]
    bad_origin = admin_client.post(
        "/api/api-keys/", {"name": "x", "allowed_origins": ["https://a.example/path"]}
    )
    assert bad_origin.status_code == 400


def test_revoked_key_stops_working(admin_client, org):
    api_key = ApiKeyFactory(org=org)
    client = APIClient()
    assert client.post(f"{SITE}?apikey={api_key.secret}", PERSON).status_code == 201
    response = admin_client.post(f"/api/api-keys/{api_key.pk}/revoke/")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert client.post(f"{SITE}?apikey={api_key.secret}", PERSON).status_code == 401
    assert admin_client.post(f"/api/api-keys/{api_key.pk}/rotate/").status_code == 409


def test_rotation_returns_a_new_secret_once_and_retires_the_old(admin_client, org):
    api_key = ApiKeyFactory(org=org)
    response = admin_client.post(f"/api/api-keys/{api_key.pk}/rotate/")
    assert response.status_code == 200
    new_secret = response.json()["key"]
    assert new_secret != api_key.secret
    client = APIClient()
    assert client.post(f"{SITE}?apikey={api_key.secret}", PERSON).status_code == 401
    assert client.post(f"{SITE}?apikey={new_secret}", PERSON).status_code == 201
    assert "key" not in admin_client.get(f"/api/api-keys/{api_key.pk}/").json()


def test_admin_updates_and_deletes_a_key(admin_client, org):
    api_key = ApiKeyFactory(org=org)
    response = admin_client.patch(
        f"/api/api-keys/{api_key.pk}/", {"allowed_origins": ["http://localhost:3000"]}
    )
    assert response.status_code == 200
    assert response.json()["allowed_origins"] == ["http://localhost:3000"]
    assert admin_client.delete(f"/api/api-keys/{api_key.pk}/").status_code == 204
    assert APIClient().post(f"{SITE}?apikey={api_key.secret}", PERSON).status_code == 401


def test_another_organizations_key_is_invisible(admin_client, other_org):
    foreign = ApiKeyFactory(org=other_org)
    assert admin_client.get(f"/api/api-keys/{foreign.pk}/").status_code == 404
    assert admin_client.post(f"/api/api-keys/{foreign.pk}/revoke/").status_code == 404
    assert admin_client.get("/api/api-keys/").json()["results"] == []


def test_a_key_is_never_accepted_by_jwt_endpoints(org):
    membership = MembershipFactory(org=org)
    api_key = ApiKeyFactory(org=org)
    attempts = [
        APIClient().get(f"/api/orgs/?apikey={api_key.secret}"),
        APIClient().get(
            "/api/users/", HTTP_X_API_KEY=api_key.secret, HTTP_ORGANIZATION_ID=str(org.pk)
        ),
        APIClient().get(
            "/api/users/",
            HTTP_AUTHORIZATION=f"Bearer {api_key.secret}",
            HTTP_ORGANIZATION_ID=str(membership.org_id),
        ),
        APIClient().get(
            "/api/api-keys/",
            HTTP_AUTHORIZATION=f"ApiKey {api_key.secret}",
            HTTP_ORGANIZATION_ID=str(org.pk),
        ),
    ]
    assert [response.status_code for response in attempts] == [401, 401, 401, 401]
