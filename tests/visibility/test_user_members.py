"""What a USER member sees beyond their leads: accounts, contacts and opportunities only
through the leads they can see, and no ids of other people's leads from an import."""

import csv
import io

import pytest

from accounts.models import Account
from tests.factories import ContactFactory
from tests.imports.conftest import csv_bytes, upload
from tests.leads.helpers import make_lead

pytestmark = pytest.mark.django_db


def _ids(page):
    return {item["id"] for item in page["results"]}


def test_user_sees_accounts_contacts_opportunities_only_through_their_leads(
    admin_client, user_client, org, user_membership, admin_membership
):
    mine = make_lead(org, account_name="Mine Corp", assigned_to=[user_membership.user])
    theirs = make_lead(org, account_name="Their Corp", assigned_to=[admin_membership.user])
    converted = {
        lead: admin_client.post(f"/api/leads/{lead.pk}/convert/").json() for lead in (mine, theirs)
    }
    stray = ContactFactory(org=org)  # added by an admin, on no lead of the user's
    own_contact = user_client.post(
        "/api/contacts/", {"first_name": "Own", "last_name": "Contact"}, format="json"
    ).json()

    accounts = user_client.get("/api/accounts/").json()
    contacts = user_client.get("/api/contacts/").json()

    assert _ids(accounts) == {converted[mine]["account"]["id"]}
    assert _ids(contacts) == {converted[mine]["contact"]["id"], own_contact["id"]}
    their_account = converted[theirs]["account"]["id"]
    assert user_client.get(f"/api/accounts/{their_account}/").status_code == 404
    their_contact = converted[theirs]["contact"]["id"]
    assert user_client.get(f"/api/contacts/{their_contact}/").status_code == 404
    assert user_client.get(f"/api/contacts/{stray.pk}/").status_code == 404
    assert user_client.delete(f"/api/contacts/{their_contact}/").status_code == 404
    # The lead list's contact picker follows the same rule.
    picker = {c["id"] for c in user_client.get("/api/leads/").json()["contacts"]}
    assert str(stray.pk) not in picker and their_contact not in picker
    # The admin sees everything.
    assert len(_ids(admin_client.get("/api/accounts/").json())) == 2
    assert str(stray.pk) in _ids(admin_client.get("/api/contacts/?limit=100").json())


def test_converting_onto_an_account_the_user_cannot_see_links_it_without_showing_it(
    admin_client, user_client, org, user_membership, admin_membership
):
    theirs = make_lead(
        org, account_name="Shared Corp", city="Secret City", assigned_to=[admin_membership.user]
    )
    existing = admin_client.post(f"/api/leads/{theirs.pk}/convert/").json()
    mine = make_lead(org, account_name="shared corp", assigned_to=[user_membership.user])

    answer = user_client.post(f"/api/leads/{mine.pk}/convert/")

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["account_created"] is False
    account = body["account"]
    assert account["id"] == existing["account"]["id"]  # linked to the existing account
    assert account["name"] == "Shared Corp"
    assert [c["id"] for c in account["contacts"]] == [body["contact"]["id"]]
    assert [o["id"] for o in account["opportunities"]] == [body["opportunity"]["id"]]
    assert account["city"] == "" and account["created_from_lead"] is None
    assert "Secret City" not in answer.content.decode()
    assert str(theirs.pk) not in answer.content.decode()
    assert existing["contact"]["id"] not in answer.content.decode()
    # Read back through the accounts endpoint: the same restricted view.
    detail = user_client.get(f"/api/accounts/{account['id']}/").json()
    assert detail["contacts"] == account["contacts"]
    assert "Secret City" not in str(detail)
    lead = user_client.get(f"/api/leads/{mine.pk}/")
    assert "Secret City" not in lead.content.decode()
    assert Account.objects.for_org(org).count() == 1
    # The admin still sees the whole account.
    full = admin_client.get(f"/api/accounts/{account['id']}/").json()
    assert full["city"] == "Secret City" and len(full["contacts"]) == 2


@pytest.mark.parametrize("dry_run", ["false", "true"])
def test_a_users_import_does_not_reveal_ids_of_leads_they_cannot_see(
    user_client, org, user_membership, admin_membership, dry_run
):
    hidden = make_lead(org, email="taken@example.com", assigned_to=[admin_membership.user])
    own = make_lead(org, email="mine@example.com", assigned_to=[user_membership.user])
    content = csv_bytes(
        [
            ["first_name", "last_name", "email"],
            ["A", "B", "taken@example.com"],
            ["C", "D", "mine@example.com"],
        ]
    )

    job = upload(user_client, content, dry_run=dry_run)

    assert job["duplicate_count"] == 2
    by_email = {d["message"]: d["existing_lead_id"] for d in job["duplicates"]}
    assert str(hidden.pk) not in str(job)
    assert str(own.pk) in by_email.values()
    assert None in by_email.values()


def test_errors_csv_neutralises_formula_cells(admin_client):
    content = csv_bytes(
        [
            ["first_name", "last_name", "email"],
            ['=HYPERLINK("http://evil.example")', "+1", "not-an-email"],
            ["@SUM(A1)", "-2", "also bad"],
        ]
    )
    job = upload(admin_client, content)
    assert job["failed_count"] == 2
    raw = b"".join(admin_client.get(job["errors_csv_url"]).streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw)))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
    assert '\'=HYPERLINK("http://evil.example")' in cells
