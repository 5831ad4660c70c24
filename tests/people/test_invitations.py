"""People join an organization only by invitation: no organization sets or learns anyone's
credentials, and an invitation's answer does not tell whether an address has an account."""

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from common.models import Invitation, Membership, Role
from tests.conftest import client_for
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.people.helpers import last_mail_to, login, token_from_mail

pytestmark = pytest.mark.django_db

ACCEPT = "/api/invitations/accept/"


def _invite(client, email, role="USER"):
    return client.post("/api/invitations/", {"email": email, "role": role}, format="json")


def _accept(token, password, **names):
    return APIClient().post(ACCEPT, {"token": token, "password": password, **names}, format="json")


def test_answer_and_email_are_identical_for_known_and_unknown_addresses(
    admin_client, other_admin_membership
):
    known = other_admin_membership.user.email  # has an account (in another organization)
    unknown = known.replace("user", "nobo")  # same length: Content-Length compares too
    assert not UserFactory._meta.model.objects.filter(email=unknown).exists()

    answers = [_invite(admin_client, email) for email in (known, unknown)]

    assert [a.status_code for a in answers] == [201, 201]
    masked = []
    for answer, email in zip(answers, (known, unknown), strict=True):
        body = answer.json()
        assert set(body) == {"id", "email", "role", "status", "expires_at"}
        assert body["status"] == "pending"
        text = answer.content.decode()
        for value in (body["id"], body["expires_at"], email):
            text = text.replace(value, "<masked>")
        headers = sorted(
            (name, value.replace(body["id"], "<masked>"))
            for name, value in answer.headers.items()
            # Each request has its own id, whatever the address.
            if name != "X-Request-ID"
        )
        masked.append((text, headers))
    assert masked[0] == masked[1]
    # Neither the answer nor anything else shows the person's name.
    assert other_admin_membership.user.first_name not in answers[0].content.decode()

    mails = [last_mail_to(known), last_mail_to(unknown)]
    bodies = [
        m.body.replace(token_from_mail(m), "<token>").replace(email, "<email>")
        for m, email in zip(mails, (known, unknown), strict=True)
    ]
    bodies = [re.sub(r"expires on .* UTC", "expires on <when>", body) for body in bodies]
    assert bodies[0] == bodies[1]
    assert mails[0].subject == mails[1].subject


def test_takeover_through_a_shared_identity_is_impossible(settings):
    """Organization A's admin tries to plant credentials on an address that organization
    B later adds, then to log in as B's member."""
    org_a, org_b = OrganizationFactory(name="A"), OrganizationFactory(name="B")
    admin_a = client_for(MembershipFactory(org=org_a, role=Role.ADMIN))
    admin_b = client_for(MembershipFactory(org=org_b, role=Role.ADMIN))
    target = "ceo@bigcorp.example"
    planted = "attacker-chosen-password"

    # A cannot create the account with a password of its choosing, by any route.
    assert (
        admin_a.post(
            "/api/users/", {"email": target, "password": planted, "role": "USER"}, format="json"
        ).status_code
        == 405
    )
    invited = _invite(admin_a, target)
    assert invited.status_code == 201
    assert planted not in invited.content.decode()
    assert "token" not in invited.json()
    # The link goes only to the address itself; A's admin never sees the token.
    a_mail = last_mail_to(target)
    assert a_mail.to == [target]
    assert token_from_mail(a_mail) not in invited.content.decode()
    listed = admin_a.get("/api/invitations/").content.decode()
    assert token_from_mail(a_mail) not in listed
    one = admin_a.get(f"/api/invitations/{invited.json()['id']}/")
    assert one.json() == invited.json() and token_from_mail(a_mail) not in one.content.decode()
    assert admin_a.delete(f"/api/invitations/{invited.json()['id']}/").status_code == 204
    assert admin_a.get(f"/api/invitations/{invited.json()['id']}/").status_code == 404
    assert _accept(token_from_mail(a_mail), planted).status_code == 400  # revoked

    # B invites the same person, who accepts with their own password.
    assert _invite(admin_b, target).status_code == 201
    accepted = _accept(token_from_mail(last_mail_to(target)), "the-ceos-own-secret-9")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["organization_id"] == str(org_b.pk)

    assert login(target, planted).status_code == 401
    assert login(target, "the-ceos-own-secret-9").status_code == 200

    # A invites the existing account again: a link alone does not open it.
    assert _invite(admin_a, target).status_code == 201
    token = token_from_mail(last_mail_to(target))
    wrong = _accept(token, planted)
    assert wrong.status_code == 400
    assert "password" in wrong.json()["fields"]
    assert not Membership.objects.for_org(org_a).filter(user__email=target).exists()
    assert login(target, planted).status_code == 401
    # With the account's own password the person joins A too; nothing about it changed.
    assert _accept(token, "the-ceos-own-secret-9").status_code == 200
    assert login(target, "the-ceos-own-secret-9").status_code == 200


def test_new_account_logs_in_and_sees_the_organization(admin_client, org, settings):
    settings.FRONTEND_URL = "https://app.example.com"
    invited = _invite(admin_client, "New.Person@Example.com", role="ADMIN")
    assert invited.json()["email"] == "new.person@example.com"
    message = last_mail_to("new.person@example.com")
    assert "https://app.example.com/accept-invitation?token=" in message.body
    token = token_from_mail(message)
    # Stored hashed: the database never holds the token itself.
    stored = Invitation.objects.for_org(org).get()
    assert stored.token_hash != token and token not in stored.token_hash

    accepted = _accept(token, "a-long-enough-password", first_name="New", last_name="Person")

    assert accepted.status_code == 200, accepted.content
    tokens = login("new.person@example.com", "a-long-enough-password").json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get("/api/orgs/").json() == [
        {"id": str(org.pk), "name": org.name, "role": "ADMIN"}
    ]
    me = client.get("/api/auth/me/").json()
    assert (me["first_name"], me["last_name"]) == ("New", "Person")
    # Used: the same link works once, and the invitation leaves the pending list.
    assert _accept(token, "a-long-enough-password").status_code == 400
    assert admin_client.get("/api/invitations/").json()["count"] == 0


def test_weak_password_for_a_new_account_is_a_400(admin_client):
    _invite(admin_client, "weak@example.com")
    answer = _accept(token_from_mail(last_mail_to("weak@example.com")), "123")
    assert answer.status_code == 400
    assert "password" in answer.json()["fields"]


@pytest.mark.parametrize("state", ["expired", "revoked", "unknown"])
def test_expired_revoked_and_unknown_tokens_are_400(admin_client, org, state):
    _invite(admin_client, "late@example.com")
    token = token_from_mail(last_mail_to("late@example.com"))
    invitation = Invitation.objects.for_org(org).get()
    if state == "expired":
        invitation.expires_at = timezone.now() - timedelta(seconds=1)
        invitation.save()
    elif state == "revoked":
        assert admin_client.delete(f"/api/invitations/{invitation.pk}/").status_code == 204
    else:
        token = token[::-1]

    answer = _accept(token, "a-long-enough-password")

    assert answer.status_code == 400
    assert "token" in answer.json()["fields"]
    assert not Membership.objects.for_org(org).filter(user__email="late@example.com").exists()


def test_reinviting_replaces_the_pending_invitation(admin_client):
    _invite(admin_client, "twice@example.com")
    first = token_from_mail(last_mail_to("twice@example.com"))
    _invite(admin_client, "twice@example.com")
    assert admin_client.get("/api/invitations/").json()["count"] == 1
    assert _accept(first, "a-long-enough-password").status_code == 400


def test_inviting_a_current_member_is_a_400(admin_client, user_membership):
    answer = _invite(admin_client, user_membership.user.email.upper())
    assert answer.status_code == 400
    assert "email" in answer.json()["fields"]


def test_users_cannot_invite_or_list(user_client):
    assert _invite(user_client, "x@example.com").status_code == 403
    assert user_client.get("/api/invitations/").status_code == 403
    assert not mail.outbox


def test_add_member_command_is_the_operators_way_in(org, capsys):
    call_command(
        "add_member",
        "--org",
        str(org.pk),
        "--email",
        "Ops@Example.com",
        "--role",
        "ADMIN",
        "--password",
        "operator-set-pass-1",
    )
    printed = json.loads(capsys.readouterr().out.strip())
    assert printed["user_created"] is True
    assert Membership.objects.for_org(org).get(user_id=printed["user_id"]).role == Role.ADMIN
    assert login("ops@example.com", "operator-set-pass-1").status_code == 200

    existing = UserFactory(email="has.account@example.com")
    call_command(
        "add_member", "--org", str(org.pk), "--email", existing.email, "--password", "other-pass-22"
    )
    assert login(existing.email, "other-pass-22").status_code == 401
    assert login(existing.email, "correct-horse-battery").status_code == 200


def test_create_organization_keeps_an_existing_users_password(capsys):
    existing = UserFactory(email="founder@example.com")
    call_command(
        "create_organization",
        "--name",
        "Second",
        "--admin-email",
        existing.email,
        "--admin-password",
        "replacement-pass-1",
    )
    assert login(existing.email, "replacement-pass-1").status_code == 401
    assert login(existing.email, "correct-horse-battery").status_code == 200


def test_seed_demo_shows_the_invitation_flow(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    token = re.search(r'"token": "([^"]+)"', out).group(1)
    assert _accept(token, "a-reps-own-password").status_code == 200
    call_command("seed_demo")
    assert "has joined" in capsys.readouterr().out
