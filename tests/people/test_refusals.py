"""Refusals of the account, invitation and member rules: the services raise domain errors
(common/errors.py), never an HTTP exception, so a task or a command gets the same refusal;
the HTTP answer (status and the whole body) is pinned here."""

import uuid

import pytest
from rest_framework.test import APIClient

from common import errors, invitations, passwords, services
from common.models import Role
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory
from tests.people.helpers import last_mail_to, token_from_mail

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
TOO_COMMON = ["This password is too common."]
ONLY_ADMINS = "Only organization admins may do this."


def _invalid(fields):
    return {"code": "validation_error", "detail": "Invalid input.", "fields": fields}


def _forbidden(detail):
    return {"code": "permission_denied", "detail": detail, "fields": {}}


def _answer(response):
    return response.status_code, response.json()


# -- passwords -------------------------------------------------------------------------


def test_a_weak_new_password_is_refused_on_new_password(admin_client, admin_membership):
    answer = admin_client.post(
        "/api/auth/password/",
        {"current_password": PASSWORD, "new_password": "password"},
        format="json",
    )
    assert _answer(answer) == (400, _invalid({"new_password": TOO_COMMON}))
    with pytest.raises(errors.InvalidInput) as refused:
        passwords.user_password_set(user=admin_membership.user, new_password="password")
    assert refused.value.fields == {"new_password": TOO_COMMON}


def test_a_wrong_current_password_is_refused_on_current_password(admin_client):
    answer = admin_client.post(
        "/api/auth/password/",
        {"current_password": "wrong", "new_password": "a-brand-new-password"},
        format="json",
    )
    assert _answer(answer) == (
        400,
        _invalid({"current_password": ["This is not your current password."]}),
    )


def test_a_bad_reset_token_is_refused_on_token():
    answer = APIClient().post(
        "/api/auth/password-reset/confirm/",
        {"token": "nope.nope", "new_password": "a-brand-new-password"},
        format="json",
    )
    assert _answer(answer) == (
        400,
        _invalid({"token": ["This reset link is invalid or has expired."]}),
    )
    with pytest.raises(errors.InvalidInput):
        passwords.password_reset_confirm(token="nope.nope", new_password="a-brand-new-password")


def test_a_weak_password_with_a_good_reset_token_is_refused_on_new_password(admin_membership):
    token = passwords.password_reset_token(admin_membership.user)
    answer = APIClient().post(
        "/api/auth/password-reset/confirm/",
        {"token": token, "new_password": "password"},
        format="json",
    )
    assert _answer(answer) == (400, _invalid({"new_password": TOO_COMMON}))


# -- invitations -----------------------------------------------------------------------


def _invite(client, email):
    return client.post("/api/invitations/", {"email": email, "role": "USER"}, format="json")


def _accept(token, password):
    return APIClient().post(
        "/api/invitations/accept/", {"token": token, "password": password}, format="json"
    )


def test_inviting_a_member_is_refused_on_email(admin_client, org, user_membership):
    answer = _invite(admin_client, user_membership.user.email)
    assert _answer(answer) == (400, _invalid({"email": ["This address is already a member."]}))
    with pytest.raises(errors.InvalidInput):
        invitations.invitation_create(
            org=org, email=user_membership.user.email, role=Role.USER, by=None, send_email=False
        )


def test_an_unknown_invitation_token_is_refused_on_token():
    assert _answer(_accept("unknown", PASSWORD)) == (
        400,
        _invalid({"token": ["This invitation is invalid, expired, revoked or already used."]}),
    )
    with pytest.raises(errors.InvalidInput):
        invitations.invitation_accept(token="unknown", password=PASSWORD)


def test_a_weak_password_for_a_new_account_is_refused_on_password(admin_client):
    _invite(admin_client, "new@example.com")
    token = token_from_mail(last_mail_to("new@example.com"))
    assert _answer(_accept(token, "password")) == (400, _invalid({"password": TOO_COMMON}))


def test_a_wrong_password_for_an_existing_account_is_refused_and_counted(
    admin_client, other_admin_membership, settings
):
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    email = other_admin_membership.user.email
    _invite(admin_client, email)
    token = token_from_mail(last_mail_to(email))
    expected = (
        400,
        _invalid({"password": ["This address has an account: enter its password."]}),
    )
    assert _answer(_accept(token, "not-the-password")) == expected
    with pytest.raises(invitations.InvitationPasswordMismatch) as refused:
        invitations.invitation_accept(token=token, password="not-the-password")
    assert isinstance(refused.value, errors.InvalidInput)
    # Each wrong password over HTTP counts as a failed login of the client address.
    assert _answer(_accept(token, "not-the-password")) == expected
    assert _accept(token, "not-the-password").status_code == 400
    throttled = _accept(token, "not-the-password")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"


# -- members ---------------------------------------------------------------------------


def test_a_user_member_may_not_change_roles(user_client, user_membership, admin_membership):
    own = f"/api/users/{user_membership.user_id}/"
    other = f"/api/users/{admin_membership.user_id}/"
    for url, change in [
        (own, {"role": "ADMIN"}),
        (own, {"is_active": False}),
        (other, {"role": "USER"}),
        (other, {"first_name": "Renamed"}),
    ]:
        answer = user_client.patch(url, change, format="json")
        assert _answer(answer) == (403, _forbidden(ONLY_ADMINS)), (url, change)
    with pytest.raises(errors.Forbidden):
        services.member_update(
            membership=admin_membership, by_member=user_membership, role=Role.USER
        )
    assert _answer(user_client.delete(other)) == (403, _forbidden(ONLY_ADMINS))
    # The role check comes first: an unknown member is the same 403 for a USER member.
    assert _answer(user_client.delete(f"/api/users/{uuid.uuid4()}/")) == (
        403,
        _forbidden(ONLY_ADMINS),
    )


def test_an_admin_may_not_rename_a_member_of_other_organizations(
    admin_client, org, admin_membership, other_admin_membership
):
    outsider = other_admin_membership.user
    membership = MembershipFactory(org=org, user=outsider)
    answer = admin_client.patch(f"/api/users/{outsider.pk}/", {"last_name": "X"}, format="json")
    detail = "This user also belongs to other organizations: only they may change their name."
    assert _answer(answer) == (403, _forbidden(detail))
    with pytest.raises(errors.Forbidden):
        services.member_update(membership=membership, by_member=admin_membership, first_name="X")
    # They may themselves.
    renamed = client_for(membership).patch(
        f"/api/users/{outsider.pk}/", {"first_name": "Own"}, format="json"
    )
    assert renamed.status_code == 200


def test_the_last_admin_refusal(admin_client, admin_membership):
    url = f"/api/users/{admin_membership.user_id}/"
    expected = (
        409,
        {
            "code": "last_admin",
            "detail": "An organization must keep at least one active admin.",
            "fields": {},
        },
    )
    assert _answer(admin_client.patch(url, {"role": "USER"}, format="json")) == expected
    assert _answer(admin_client.delete(url)) == expected


# -- operators' commands ---------------------------------------------------------------


def test_services_refuse_a_weak_password_on_password(org):
    with pytest.raises(errors.InvalidInput) as refused:
        services.member_add(org=org, email="weak@example.com", password="password")
    assert refused.value.fields == {"password": TOO_COMMON}
    with pytest.raises(errors.InvalidInput):
        services.organization_create(
            name="Weak", admin_email="weak@example.com", admin_password="password"
        )
    # An existing account keeps its password: nothing to validate.
    existing = UserFactory()
    membership, created = services.member_add(org=org, email=existing.email, password="password")
    assert (membership.user, created) == (existing, False)


def test_commands_answer_a_weak_password_with_a_command_error(org):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="too common"):
        call_command(
            "add_member", "--org", str(org.pk), "--email", "w@example.com", "--password", "password"
        )
    with pytest.raises(CommandError, match="too common"):
        call_command(
            "create_organization",
            "--name",
            "Weak",
            "--admin-email",
            "w@example.com",
            "--admin-password",
            "password",
        )
