import threading

import pytest
from django.db import close_old_connections, connection

from accounts.models import Account, Contact, Opportunity
from leads.choices import LeadStatus
from leads.conversion import LeadAlreadyConverted, lead_convert
from leads.models import Lead
from tests.concurrency import run_in_threads
from tests.factories import AccountFactory
from tests.leads.helpers import make_lead


@pytest.mark.django_db
def test_explicit_convert_creates_account_contact_opportunity(admin_client, org, admin_membership):
    lead = make_lead(
        org,
        first_name="Jane",
        last_name="Prospect",
        account_name="Prospect Corp",
        title="Demo",
        opportunity_amount="500.00",
        tags=["hot"],
        assigned_to=[admin_membership.user],
    )

    response = admin_client.post(f"/api/leads/{lead.pk}/convert/")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["account_created"] is True
    assert body["account"]["name"] == "Prospect Corp"
    assert body["account"]["created_from_lead"] == str(lead.pk)
    assert body["account"]["tags"] == ["hot"]
    assert body["contact"]["first_name"] == "Jane"
    assert body["opportunity"]["amount"] == "500.00"
    assert body["opportunity"]["lead"] == str(lead.pk)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert str(lead.converted_account_id) == body["account"]["id"]
    assert lead.converted_at is not None


@pytest.mark.django_db
def test_convert_links_existing_account_of_same_name_with_200(admin_client, org):
    account = AccountFactory(org=org, name="ACME Inc")
    lead = make_lead(org, account_name="acme inc")
    response = admin_client.post(f"/api/leads/{lead.pk}/convert/")
    assert response.status_code == 200
    assert response.json()["account"]["id"] == str(account.pk)
    assert response.json()["account_created"] is False
    assert Account.objects.for_org(org).count() == 1


@pytest.mark.django_db
def test_converting_twice_is_409(admin_client, org):
    lead = make_lead(org, account_name="Once")
    assert admin_client.post(f"/api/leads/{lead.pk}/convert/").status_code == 201
    response = admin_client.post(f"/api/leads/{lead.pk}/convert/")
    assert response.status_code == 409
    assert response.json()["code"] == "lead_already_converted"
    assert Account.objects.for_org(org).count() == 1
    assert Opportunity.objects.for_org(org).count() == 1


@pytest.mark.django_db
def test_status_converted_on_update_runs_conversion(admin_client, org):
    lead = make_lead(org, account_name="Via Update", title="T")
    response = admin_client.patch(
        f"/api/leads/{lead.pk}/",
        {"status": "converted", "description": "won"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "converted"
    assert body["description"] == "won"
    assert body["converted_account"]["name"] == "Via Update"
    assert Contact.objects.for_org(org).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("new_status", ["assigned", "closed", "converted"])
def test_changing_a_converted_leads_status_is_409(admin_client, org, new_status):
    lead = make_lead(org)
    admin_client.post(f"/api/leads/{lead.pk}/convert/")
    response = admin_client.put(
        f"/api/leads/{lead.pk}/", {"status": new_status, "title": "changed"}, format="json"
    )
    assert response.status_code == 409
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert lead.title != "changed"
    assert Account.objects.for_org(org).count() == 1


@pytest.mark.django_db
def test_converted_lead_other_fields_stay_editable(admin_client, org):
    lead = make_lead(org)
    admin_client.post(f"/api/leads/{lead.pk}/convert/")
    response = admin_client.patch(
        f"/api/leads/{lead.pk}/", {"description": "history"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "converted"


@pytest.mark.django_db
def test_converted_lead_leaves_the_list(admin_client, org):
    lead = make_lead(org)
    admin_client.post(f"/api/leads/{lead.pk}/convert/")
    body = admin_client.get("/api/leads/").json()
    assert body["open_leads"] == []
    assert body["open_leads_count"] == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_conversions_make_exactly_one_account(org, admin_membership):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    lead = make_lead(org, account_name="Race Corp")
    barrier = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def convert():
        try:
            fresh = Lead.objects.for_org(org).get(pk=lead.pk)
            barrier.wait()
            try:
                lead_convert(lead=fresh, by=admin_membership.user)
                result = "converted"
            except LeadAlreadyConverted:
                result = "conflict"
            with lock:
                outcomes.append(result)
        finally:
            close_old_connections()
            connection.close()

    run_in_threads(convert, [(), ()], timeout=20)

    assert sorted(outcomes) == ["conflict", "converted"]
    assert Account.objects.for_org(org).count() == 1
    assert Contact.objects.for_org(org).count() == 1
    assert Opportunity.objects.for_org(org).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_convert_requests_answer_one_201_and_one_409(org, admin_membership):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    from tests.conftest import client_for

    lead = make_lead(org, account_name="Race Two")
    barrier = threading.Barrier(2, timeout=10)
    codes: list[int] = []
    lock = threading.Lock()

    def post():
        client = client_for(admin_membership)
        try:
            barrier.wait()
            code = client.post(f"/api/leads/{lead.pk}/convert/").status_code
            with lock:
                codes.append(code)
        finally:
            connection.close()

    run_in_threads(post, [(), ()], timeout=20)

    assert sorted(codes) == [201, 409]
    assert Account.objects.for_org(org).count() == 1


@pytest.mark.django_db
def test_lead_stays_converted_after_its_account_is_deleted(admin_client, org):
    lead = make_lead(org, account_name="Gone")
    admin_client.post(f"/api/leads/{lead.pk}/convert/")
    Account.objects.for_org(org).delete()
    response = admin_client.post(f"/api/leads/{lead.pk}/convert/")
    assert response.status_code == 409
    status_change = admin_client.patch(
        f"/api/leads/{lead.pk}/", {"status": "assigned"}, format="json"
    )
    assert status_change.status_code == 409
    assert status_change.json()["code"] == "lead_status_locked"


@pytest.mark.django_db
def test_long_company_name_without_title_still_converts(admin_client, org):
    """The opportunity is named after the account when the lead has no title: a company
    name at the 255-character limit must not overflow the opportunity's name."""
    lead = make_lead(org, title="", account_name="C" * 255)

    response = admin_client.post(f"/api/leads/{lead.pk}/convert/")

    assert response.status_code == 201, response.content
    name = response.json()["opportunity"]["name"]
    assert len(name) <= 255
    assert name.startswith("C" * 200)
    assert Opportunity.objects.for_org(org).get().name == name
