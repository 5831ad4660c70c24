import threading
import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from companies.models import Company
from tests.concurrency import run_in_threads
from tests.conftest import client_for
from tests.factories import CompanyFactory, LeadFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def token_only_client(membership) -> APIClient:
    client = APIClient()
    token = RefreshToken.for_user(membership.user).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_spec_example_list(admin_client, org):
    company = CompanyFactory(org=org, name="Tech Corp", industry="Technology")
    response = admin_client.get("/api/leads/companies/")
    assert response.status_code == 200
    body = response.json()
    assert body["companies"] == [
        {
            "id": str(company.pk),
            "name": "Tech Corp",
            "industry": "Technology",
            "website": "",
            "created_from_lead": None,
            "created_on": body["companies"][0]["created_on"],
        }
    ]
    assert body["count"] == 1


def test_spec_example_create(user_client, org):
    response = user_client.post(
        "/api/leads/companies/",
        {
            "name": "New Tech Startup",
            "industry": "Software",
            "website": "https://newtechstartup.com",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "New Tech Startup"
    assert body["industry"] == "Software"
    assert Company.objects.for_org(org).filter(pk=body["id"]).exists()


def test_created_from_lead_must_be_in_the_org(admin_client, org, other_org):
    lead = LeadFactory(org=org)
    ok = admin_client.post(
        "/api/leads/companies/",
        {"name": "From lead", "created_from_lead": str(lead.pk)},
        format="json",
    )
    assert ok.status_code == 201
    assert ok.json()["created_from_lead"] == str(lead.pk)
    foreign = admin_client.post(
        "/api/leads/companies/",
        {"name": "Foreign", "created_from_lead": str(LeadFactory(org=other_org).pk)},
        format="json",
    )
    assert foreign.status_code == 400
    assert "created_from_lead" in foreign.json()["fields"]


def test_user_may_only_link_a_lead_they_can_see(user_client, user_membership, org):
    """A USER member sees only their own leads: naming someone else's lead must not work
    (nor confirm that the id exists), exactly like a lead of another organization."""
    hidden = LeadFactory(org=org)
    own = LeadFactory(org=org, created_by=user_membership.user)

    refused = user_client.post(
        "/api/leads/companies/",
        {"name": "Hidden", "created_from_lead": str(hidden.pk)},
        format="json",
    )
    accepted = user_client.post(
        "/api/leads/companies/",
        {"name": "Own", "created_from_lead": str(own.pk)},
        format="json",
    )

    assert refused.status_code == 400
    assert "created_from_lead" in refused.json()["fields"]
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["created_from_lead"] == str(own.pk)


@pytest.mark.parametrize("name", ["tech corp", "TECH CORP", "  Tech Corp "])
def test_duplicate_name_is_400_on_name(admin_client, org, name):
    CompanyFactory(org=org, name="Tech Corp")
    response = admin_client.post("/api/leads/companies/", {"name": name}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["fields"]
    assert Company.objects.for_org(org).count() == 1


def test_same_name_in_another_org_is_fine(admin_client, other_org):
    CompanyFactory(org=other_org, name="Tech Corp")
    response = admin_client.post("/api/leads/companies/", {"name": "Tech Corp"}, format="json")
    assert response.status_code == 201


def test_rename_to_a_taken_name_is_400(admin_client, org):
    CompanyFactory(org=org, name="Taken")
    company = CompanyFactory(org=org, name="Mine")
    response = admin_client.patch(
        f"/api/leads/company/{company.pk}/", {"name": "TAKEN"}, format="json"
    )
    assert response.status_code == 400
    assert "name" in response.json()["fields"]
    renamed = admin_client.put(f"/api/leads/company/{company.pk}/", {"name": "MINE"}, format="json")
    assert renamed.status_code == 200


def test_blank_name_is_400(admin_client):
    response = admin_client.post("/api/leads/companies/", {"name": "   "}, format="json")
    assert response.status_code == 400


def test_integrity_error_from_a_race_is_a_400(admin_client, org, monkeypatch):
    from companies import services

    CompanyFactory(org=org, name="Raced")
    # Simulate the other request inserting between our check and our insert.
    monkeypatch.setattr(services, "_ensure_name_free", lambda **kwargs: None)
    response = admin_client.post("/api/leads/companies/", {"name": "raced"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["fields"]


def test_get_put_patch_delete(admin_client, org):
    company = CompanyFactory(org=org, name="Old", industry="Retail")
    url = f"/api/leads/company/{company.pk}/"
    assert admin_client.get(url).json()["name"] == "Old"
    response = admin_client.put(url, {"industry": "Tech"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Old"
    assert response.json()["industry"] == "Tech"
    assert admin_client.patch(url, {"website": "x.io"}, format="json").json()["website"] == "x.io"
    assert admin_client.delete(url).status_code == 204
    assert not Company.objects.for_org(org).exists()


def test_get_without_org_header_finds_company_in_own_orgs(admin_membership, org, other_org):
    company = CompanyFactory(org=org, name="Mine")
    client = token_only_client(admin_membership)

    response = client.get(f"/api/leads/company/{company.pk}/")

    assert response.status_code == 200
    assert response.json()["name"] == "Mine"


def test_get_without_header_finds_company_of_a_second_org(admin_membership, other_org):
    MembershipFactory(org=other_org, user=admin_membership.user)
    company = CompanyFactory(org=other_org, name="Second")
    response = token_only_client(admin_membership).get(f"/api/leads/company/{company.pk}/")
    assert response.status_code == 200


def test_get_without_header_never_crosses_into_foreign_orgs(admin_membership, other_org):
    foreign = CompanyFactory(org=other_org)
    client = token_only_client(admin_membership)
    assert client.get(f"/api/leads/company/{foreign.pk}/").status_code == 404
    assert client.get(f"/api/leads/company/{uuid.uuid4()}/").status_code == 404


def test_get_without_header_ignores_inactive_memberships(org):
    gone = MembershipFactory(org=org, is_active=False)
    company = CompanyFactory(org=org)
    assert token_only_client(gone).get(f"/api/leads/company/{company.pk}/").status_code == 404


def test_get_without_header_needs_authentication(client, org):
    company = CompanyFactory(org=org)
    assert client.get(f"/api/leads/company/{company.pk}/").status_code == 401


def test_with_header_normal_scoping_applies(admin_client, admin_membership, other_org):
    MembershipFactory(org=other_org, user=admin_membership.user)
    company = CompanyFactory(org=other_org)
    # The header names the first organization: the second one's company is not there.
    assert admin_client.get(f"/api/leads/company/{company.pk}/").status_code == 404


def test_other_routes_still_need_the_header(admin_membership, org):
    company = CompanyFactory(org=org)
    client = token_only_client(admin_membership)
    assert client.get("/api/leads/companies/").status_code == 400
    assert client.patch(f"/api/leads/company/{company.pk}/", {"name": "x"}).status_code == 400
    assert client.delete(f"/api/leads/company/{company.pk}/").status_code == 400


def test_malformed_header_on_get_is_400(admin_membership, org):
    company = CompanyFactory(org=org)
    client = token_only_client(admin_membership)
    response = client.get(f"/api/leads/company/{company.pk}/", HTTP_ORGANIZATION_ID="nope")
    assert response.status_code == 400


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_foreign_company_is_404(admin_client, other_org, method):
    company = CompanyFactory(org=other_org, name="Theirs")
    response = getattr(admin_client, method)(
        f"/api/leads/company/{company.pk}/", {"name": "Mine"}, format="json"
    )
    assert response.status_code == 404
    assert Company.objects.for_org(other_org).get().name == "Theirs"


def test_list_is_only_this_org_and_paged(admin_client, org, other_org):
    for name in ("b", "a", "c"):
        CompanyFactory(org=org, name=name)
    CompanyFactory(org=other_org)
    body = admin_client.get("/api/leads/companies/?limit=2&offset=1").json()
    assert [c["name"] for c in body["companies"]] == ["b", "c"]
    assert body["count"] == 3
    assert admin_client.get("/api/leads/companies/?limit=x").status_code == 400


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_names_make_one_company(org, admin_membership):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    barrier = threading.Barrier(2, timeout=10)
    codes: list[int] = []
    lock = threading.Lock()

    def post(name):
        client = client_for(admin_membership)
        try:
            barrier.wait()
            code = client.post("/api/leads/companies/", {"name": name}, format="json").status_code
            with lock:
                codes.append(code)
        finally:
            connection.close()

    run_in_threads(post, [("Dup",), ("DUP",)], timeout=20)

    assert sorted(codes) == [201, 400]
    assert Company.objects.for_org(org).count() == 1
