import pytest

pytestmark = pytest.mark.django_db


def test_admin_adds_member_who_can_then_log_in(admin_client, client):
    response = admin_client.post(
        "/api/users/",
        {
            "email": "new@example.com",
            "first_name": "New",
            "last_name": "Member",
            "role": "USER",
            "password": "a-long-enough-password",
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["email"] == "new@example.com"
    token = client.post(
        "/api/auth/token/",
        {"email": "new@example.com", "password": "a-long-enough-password"},
        content_type="application/json",
    )
    assert token.status_code == 200
    assert {"access", "refresh"} <= set(token.json())
