"""Bad input of every kind gets the one error body, with the right status, never a 500."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ('{"first_name": "' + "a" * 3_000_000 + '"}', "application/json", 413, "too_large"),
        ('{"first_name": ', "application/json", 400, "parse_error"),
        ("<contact/>", "application/xml", 415, "unsupported_media_type"),
        ("[1, 2]", "application/json", 400, "validation_error"),
        ('{"first_name": "a\\u0000b"}', "application/json", 400, "validation_error"),
        (
            '{"email": "not an email", "first_name": "A"}',
            "application/json",
            400,
            "validation_error",
        ),
    ],
)
def test_bad_input(admin_client, body, content_type, status, code):
    response = admin_client.post("/api/contacts/", body, content_type=content_type)
    assert response.status_code == status
    error = response.json()
    assert set(error) == {"code", "detail", "fields"}
    assert error["code"] == code


def test_validation_errors_name_the_field(admin_client):
    response = admin_client.post("/api/contacts/", {"email": "nope"}, format="json")
    fields = response.json()["fields"]
    assert set(fields) == {"first_name", "email"}
    assert all(isinstance(messages, list) and messages for messages in fields.values())


def test_method_not_allowed(admin_client):
    response = admin_client.delete("/api/contacts/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
