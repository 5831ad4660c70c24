"""Sessions: logging out, who am I, and a new password ending every earlier session."""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from common.models import User
from tests.people.helpers import bearer, last_mail_to, login, token_from_mail

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def _refresh(refresh):
    return APIClient().post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")


@pytest.fixture
def session(admin_membership):
    tokens = login(admin_membership.user.email, PASSWORD).json()
    return admin_membership.user, tokens


def test_logout_ends_the_refresh_token(session):
    _user, tokens = session
    answer = APIClient().post("/api/auth/logout/", {"refresh": tokens["refresh"]}, format="json")
    assert answer.status_code == 200
    refused = _refresh(tokens["refresh"])
    assert refused.status_code == 401
    assert refused.json()["code"] == "token_not_valid"


def test_logout_with_a_bad_token_is_401():
    answer = APIClient().post("/api/auth/logout/", {"refresh": "garbage"}, format="json")
    assert answer.status_code == 401


def test_me_describes_the_caller(session, admin_membership):
    user, tokens = session
    me = bearer(tokens["access"]).get("/api/auth/me/")
    assert me.status_code == 200
    assert me.json() == {
        "id": str(user.pk),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "organizations": [
            {"id": str(admin_membership.org_id), "name": admin_membership.org.name, "role": "ADMIN"}
        ],
    }
    assert APIClient().get("/api/auth/me/").status_code == 401


def test_password_change_ends_every_earlier_session(session, admin_membership):
    user, first = session
    # An organization's routes read the caller with their membership (another path).
    in_org = {"HTTP_ORGANIZATION_ID": str(admin_membership.org_id)}
    assert bearer(first["access"]).get("/api/leads/", **in_org).status_code == 200
    second = login(user.email, PASSWORD).json()  # another tab or device
    changed = bearer(first["access"]).post(
        "/api/auth/password/",
        {"current_password": PASSWORD, "new_password": "a-brand-new-password"},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    for tokens in (first, second):
        assert bearer(tokens["access"]).get("/api/auth/me/").status_code == 401
        refused = bearer(tokens["access"]).get("/api/leads/", **in_org)
        assert (refused.status_code, refused.json()["code"]) == (401, "password_changed")
        assert _refresh(tokens["refresh"]).status_code == 401
    # The answer's new pair works, and so does the new password.
    assert bearer(changed.json()["access"]).get("/api/auth/me/").status_code == 200
    assert _refresh(changed.json()["refresh"]).status_code == 200
    assert login(user.email, "a-brand-new-password").status_code == 200
    assert login(user.email, PASSWORD).status_code == 401


def test_password_change_needs_the_current_password(session):
    _user, tokens = session
    answer = bearer(tokens["access"]).post(
        "/api/auth/password/",
        {"current_password": "wrong", "new_password": "a-brand-new-password"},
        format="json",
    )
    assert answer.status_code == 400
    assert "current_password" in answer.json()["fields"]
    assert bearer(tokens["access"]).get("/api/auth/me/").status_code == 200


def test_password_reset_answers_the_same_for_unknown_addresses(session):
    user, _tokens = session
    known = APIClient().post("/api/auth/password-reset/", {"email": user.email}, format="json")
    unknown = APIClient().post(
        "/api/auth/password-reset/", {"email": "nobody@example.com"}, format="json"
    )
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_password_reset_confirm_ends_earlier_sessions_and_works_once(session, settings):
    settings.FRONTEND_URL = "https://app.example.com"
    user, tokens = session
    APIClient().post("/api/auth/password-reset/", {"email": user.email.upper()}, format="json")
    message = last_mail_to(user.email)
    assert "https://app.example.com/reset-password?token=" in message.body
    token = token_from_mail(message)
    body = {"token": token, "new_password": "reset-to-this-one"}

    confirmed = APIClient().post("/api/auth/password-reset/confirm/", body, format="json")

    assert confirmed.status_code == 200, confirmed.content
    assert bearer(tokens["access"]).get("/api/auth/me/").status_code == 401
    assert _refresh(tokens["refresh"]).status_code == 401
    assert login(user.email, "reset-to-this-one").status_code == 200
    again = APIClient().post("/api/auth/password-reset/confirm/", body, format="json")
    assert again.status_code == 400
    assert "token" in again.json()["fields"]


@pytest.mark.parametrize("token", ["garbage", "a.b", "!!!.x-y", "MTIz.abc-def", ""])
def test_malformed_reset_tokens_are_400(token):
    answer = APIClient().post(
        "/api/auth/password-reset/confirm/",
        {"token": token, "new_password": "reset-to-this-one"},
        format="json",
    )
    assert answer.status_code == 400


def test_refresh_token_of_a_deleted_user_is_401(session):
    user, tokens = session
    User.objects.filter(pk=user.pk).delete()
    answer = _refresh(tokens["refresh"])
    assert answer.status_code == 401
    assert answer.json()["code"] == "token_not_valid"
    logout = APIClient().post("/api/auth/logout/", {"refresh": tokens["refresh"]}, format="json")
    assert logout.status_code == 200


def test_refresh_token_of_a_deactivated_user_is_401(session):
    user, tokens = session
    user.is_active = False
    user.save()
    assert _refresh(tokens["refresh"]).status_code == 401
