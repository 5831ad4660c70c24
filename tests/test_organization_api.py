"""Members, teams, contacts, accounts, organizations and health, as an admin would use them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from common.models import Membership, Role
from tests.conftest import client_for
from tests.factories import (
    AccountFactory,
    ContactFactory,
    MembershipFactory,
    OpportunityFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def _login(email, password):
    return APIClient().post(
        "/api/auth/token/", {"email": email, "password": password}, format="json"
    )


def test_members_cannot_be_created_through_the_api(admin_client, other_admin_membership):
    """People join by invitation only: no organization chooses anyone's password."""
    email = other_admin_membership.user.email
    response = admin_client.post(
        "/api/users/",
        {"email": email, "role": "USER", "password": "attacker-chosen-pw"},
        format="json",
    )
    assert response.status_code == 405
    assert _login(email, "attacker-chosen-pw").status_code == 401
    assert _login(email, "correct-horse-battery").status_code == 200


def test_users_cannot_manage_members(user_client, admin_membership):
    assert user_client.get("/api/users/").status_code == 200
    added = user_client.post("/api/invitations/", {"email": "x@example.com"}, format="json")
    assert added.status_code == 403
    removed = user_client.delete(f"/api/users/{admin_membership.user_id}/")
    assert removed.status_code == 403
    promoted = user_client.patch(
        f"/api/users/{admin_membership.user_id}/", {"role": "USER"}, format="json"
    )
    assert promoted.status_code == 403


def test_admin_cannot_rename_a_user_who_also_belongs_to_another_org(
    admin_client, org, other_admin_membership
):
    """A user's name is shared by all their organizations: adding someone by e-mail must not
    let this organization's admin rename them in the others."""
    outsider = other_admin_membership.user
    MembershipFactory(org=org, user=outsider)
    local = MembershipFactory(org=org)

    renamed = admin_client.patch(
        f"/api/users/{outsider.pk}/", {"first_name": "Hijacked"}, format="json"
    )
    demoted = admin_client.patch(f"/api/users/{outsider.pk}/", {"role": "USER"}, format="json")
    renamed_local = admin_client.patch(
        f"/api/users/{local.user_id}/", {"first_name": "Local"}, format="json"
    )

    assert renamed.status_code == 403
    outsider.refresh_from_db()
    assert outsider.first_name != "Hijacked"
    assert demoted.status_code == 200
    assert renamed_local.status_code == 200


def test_member_edits_own_name_but_not_own_role(user_client, user_membership):
    url = f"/api/users/{user_membership.user_id}/"
    assert user_client.patch(url, {"first_name": "Renamed"}, format="json").status_code == 200
    assert user_client.patch(url, {"role": "ADMIN"}, format="json").status_code == 403
    user_membership.refresh_from_db()
    assert user_membership.role == Role.USER


def test_removing_a_member_revokes_access_immediately(admin_client, user_membership):
    client = client_for(user_membership)
    assert client.get("/api/contacts/").status_code == 200
    assert admin_client.delete(f"/api/users/{user_membership.user_id}/").status_code == 204
    assert client.get("/api/contacts/").status_code == 403


def test_last_admin_cannot_leave_or_be_demoted(admin_client, admin_membership):
    url = f"/api/users/{admin_membership.user_id}/"
    assert admin_client.patch(url, {"role": "USER"}, format="json").status_code == 409
    assert admin_client.delete(url).status_code == 409
    assert Membership.objects.for_org(admin_membership.org).get().role == Role.ADMIN


def test_teams_admin_writes_members_read(
    admin_client, user_client, user_membership, other_admin_membership
):
    created = admin_client.post(
        "/api/teams/",
        {"name": "Sales", "description": "Field sales", "users": [str(user_membership.user_id)]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    team = created.json()
    assert team["users"] == [str(user_membership.user_id)]
    assert user_client.get(f"/api/teams/{team['id']}/").json()["name"] == "Sales"
    denied = user_client.patch(f"/api/teams/{team['id']}/", {"name": "Mine"}, format="json")
    assert denied.status_code == 403
    outsider = admin_client.post(
        "/api/teams/", {"name": "X", "users": [str(other_admin_membership.user_id)]}, format="json"
    )
    assert outsider.status_code == 400
    assert "users.0" in outsider.json()["fields"] or "users" in outsider.json()["fields"]


def test_contacts_crud_with_phone_normalised(user_client):
    created = user_client.post(
        "/api/contacts/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone": "(415) 555-2671",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    contact = created.json()
    assert contact["phone"] == "+14155552671"
    odd = user_client.patch(f"/api/contacts/{contact['id']}/", {"phone": "ext. 12"}, format="json")
    assert odd.status_code == 200
    assert odd.json()["phone"] == "ext. 12"
    assert user_client.delete(f"/api/contacts/{contact['id']}/").status_code == 204
    assert user_client.get(f"/api/contacts/{contact['id']}/").status_code == 404


def test_accounts_show_contacts_and_opportunities(admin_client, org):
    account = AccountFactory(org=org, name="Big Corp")
    ContactFactory(org=org, account=account, first_name="Grace")
    OpportunityFactory(org=org, account=account, name="Deal")
    listing = admin_client.get("/api/accounts/").json()
    assert listing["count"] == 1
    detail = admin_client.get(f"/api/accounts/{account.pk}/").json()
    assert [c["first_name"] for c in detail["contacts"]] == ["Grace"]
    assert [o["name"] for o in detail["opportunities"]] == ["Deal"]
    assert admin_client.post("/api/accounts/", {"name": "x"}, format="json").status_code == 405


def test_malformed_ids_in_paths_are_json_404(admin_client):
    response = admin_client.get("/api/contacts/not-a-uuid/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_limit_is_capped_at_100(admin_client, org):
    TeamFactory.create_batch(101, org=org)
    body = admin_client.get("/api/teams/?limit=100000").json()
    assert body["count"] == 101
    assert len(body["results"]) == 100


def test_health_reports_database():
    response = APIClient().get("/api/health/")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_create_organization_command_prints_ids(capsys):
    call_command(
        "create_organization",
        "--name",
        "Acme",
        "--admin-email",
        "Boss@Acme.test",
        "--admin-password",
        "s3cret-pass-word",
    )
    printed = json.loads(capsys.readouterr().out.strip())
    membership = Membership.objects.for_org(printed["organization_id"]).get()
    assert str(membership.user_id) == printed["user_id"]
    assert membership.role == Role.ADMIN
    assert _login("boss@acme.test", "s3cret-pass-word").status_code == 200


def test_members_of_another_org_are_not_listed(admin_client, other_admin_membership):
    MembershipFactory(org=other_admin_membership.org)
    emails = [m["email"] for m in admin_client.get("/api/users/").json()["results"]]
    assert other_admin_membership.user.email not in emails


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_ENV": "production"}, "DJANGO_SECRET_KEY"),
        (
            {"DJANGO_ENV": "production", "DJANGO_SECRET_KEY": "k" * 50, "DJANGO_DEBUG": "true"},
            "DJANGO_DEBUG",
        ),
    ],
)
def test_production_refuses_unsafe_settings(env, message):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert message in result.stderr
