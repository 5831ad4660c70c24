"""Files exported from other CRMs and spreadsheet templates import as they are: their
headers (as each system writes them), a single full-name column, and their default lead
statuses. Plus `mapping` for anything else, and `on_duplicate=update`."""

import json
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from leads.imports.models import ImportJob
from leads.models import Lead
from tests.factories import LeadFactory
from tests.imports.conftest import UPLOAD_URL, csv_bytes, upload, upload_file, xlsx_bytes

pytestmark = pytest.mark.django_db


def _by_email(org) -> dict[str, Lead]:
    return {lead.email: lead for lead in Lead.objects.for_org(org)}


def _counts(job) -> tuple:
    return (
        job["imported_count"],
        job["updated_count"],
        job["failed_count"],
        job["duplicate_count"],
    )


def test_salesforce_lead_report_export(admin_client, org):
    rows = [
        [
            "Lead ID",
            "Salutation",
            "First Name",
            "Last Name",
            "Title",
            "Company",
            "Email",
            "Phone",
            "Mobile",
            "Lead Source",
            "Lead Status",
            "Street",
            "City",
            "State/Province",
            "Zip/Postal Code",
            "Country",
            "Website",
            "Description",
            "Lead Owner",
        ],
        ["00Q1", "Ms.", "Ada", "Lovelace", "CTO", "Engines Ltd", "ada@sf.example",
         "+44 20 7946 0000", "", "Web", "Open - Not Contacted", "12 St James's Sq",
         "London", "London", "SW1Y 4JH", "UK", "engines.example", "Met at a fair",
         "Jane Seller"],
        ["00Q2", "Mr.", "Alan", "Turing", "", "Bletchley", "alan@sf.example", "", "",
         "Trade Show", "Working - Contacted", "", "", "", "", "", "", "", "Jane Seller"],
        ["00Q3", "", "Grace", "Hopper", "", "Navy", "grace@sf.example", "", "", "",
         "Closed - Not Converted", "", "", "", "", "", "", "", "Jane Seller"],
        ["00Q4", "", "Katherine", "Johnson", "", "NASA", "kj@sf.example", "", "", "",
         "Closed - Converted", "", "", "", "", "", "", "", "Jane Seller"],
    ]  # fmt: skip
    job = upload(admin_client, csv_bytes(rows), name="report1234.csv")

    assert job["status"] == "success", job
    assert _counts(job) == (3, 0, 1, 0)
    # The other system's own columns are reported, not guessed at; so is a second phone.
    assert job["unknown_columns"] == ["Lead ID", "Salutation", "Mobile", "Lead Owner"]
    leads = _by_email(org)
    ada = leads["ada@sf.example"]
    assert (ada.first_name, ada.last_name, ada.title, ada.account_name) == (
        "Ada",
        "Lovelace",
        "CTO",
        "Engines Ltd",
    )
    assert (ada.street, ada.city, ada.state, ada.postcode, ada.country) == (
        "12 St James's Sq",
        "London",
        "London",
        "SW1Y 4JH",
        "UK",
    )
    assert (ada.source, ada.status, ada.description) == ("Web", "assigned", "Met at a fair")
    assert leads["alan@sf.example"].status == "in process"
    assert leads["grace@sf.example"].status == "closed"
    # "Closed - Converted" is our `converted`: converted in the application, not imported.
    assert job["errors"][0]["row"] == 5 and job["errors"][0]["field"] == "status"


def test_salesforce_data_loader_export_with_api_names(admin_client, org):
    rows = [
        ["Id", "FirstName", "LastName", "Company", "Email", "MobilePhone", "LeadSource",
         "Status", "PostalCode", "State", "Name"],
        ["00Q1", "Ada", "Lovelace", "Engines", "ada@dl.example", "(212) 555-0100", "Web",
         "Working - Contacted", "SW1", "London", "Ada Lovelace"],
    ]  # fmt: skip
    job = upload(admin_client, csv_bytes(rows))

    assert _counts(job) == (1, 0, 0, 0), job
    # `Name` duplicates the first and last name columns: not needed, reported.
    assert job["unknown_columns"] == ["Id", "Name"]
    ada = _by_email(org)["ada@dl.example"]
    assert (ada.account_name, ada.postcode, ada.state, ada.status) == (
        "Engines",
        "SW1",
        "London",
        "in process",
    )
    assert ada.phone == "+12125550100"


def test_hubspot_contacts_export(admin_client, org):
    rows = [
        ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Job Title",
         "Company Name", "Website URL", "Street Address", "City", "State/Region",
         "Postal Code", "Country/Region", "Lead Status", "Original Source", "Contact owner",
         "Lifecycle Stage", "Create Date"],
        ["101", "Ada", "Lovelace", "ada@hs.example", "+1 212 555 0100", "CTO", "Engines",
         "https://engines.example", "1 Main St", "Boston", "MA", "02110", "United States",
         "New", "Organic Search", "Jane Seller", "lead", "2024-01-02 10:00"],
        ["102", "Alan", "Turing", "alan@hs.example", "", "", "", "", "", "", "", "", "",
         "Attempted to contact", "", "", "lead", ""],
        ["103", "Grace", "Hopper", "grace@hs.example", "", "", "", "", "", "", "", "", "",
         "Bad Timing", "", "", "", ""],
        ["104", "Edsger", "Dijkstra", "ed@hs.example", "", "", "", "", "", "", "", "", "",
         "Unqualified", "", "", "", ""],
        ["105", "Barbara", "Liskov", "bl@hs.example", "", "", "", "", "", "", "", "", "",
         "Open Deal", "", "", "", ""],
    ]  # fmt: skip
    job = upload(admin_client, csv_bytes(rows, bom=True), name="hubspot-crm-exports.csv")

    assert _counts(job) == (5, 0, 0, 0), job
    assert job["unknown_columns"] == [
        "Record ID",
        "Contact owner",
        "Lifecycle Stage",
        "Create Date",
    ]
    leads = _by_email(org)
    ada = leads["ada@hs.example"]
    assert (ada.title, ada.account_name, ada.website, ada.street, ada.state) == (
        "CTO",
        "Engines",
        "https://engines.example",
        "1 Main St",
        "MA",
    )
    assert (ada.postcode, ada.country, ada.source) == ("02110", "United States", "Organic Search")
    assert {email: lead.status for email, lead in leads.items()} == {
        "ada@hs.example": "assigned",
        "alan@hs.example": "in process",
        "grace@hs.example": "recycled",
        "ed@hs.example": "closed",
        "bl@hs.example": "in process",
    }


def test_pipedrive_leads_export_with_one_full_name_column(admin_client, org):
    rows = [
        ["Lead - Title", "Lead - Value", "Lead - Labels", "Person - Name", "Person - Email",
         "Person - Phone", "Organization - Name", "Source", "Lead - Owner"],
        ["Engines deal", "1,200.50", "Hot", "Ada Lovelace", "ada@pd.example",
         "+33 1 23 45 67 89", "Engines", "Web forms", "Jane Seller"],
        ["Navy", "", "Warm, Cold", "Hopper, Grace", "grace@pd.example", "", "Navy", "", ""],
        ["Solo", "", "", "Cher", "cher@pd.example", "", "", "", ""],
    ]  # fmt: skip
    job = upload(admin_client, csv_bytes(rows))

    # One-word name: no last name to take, the row fails on it.
    assert _counts(job) == (2, 0, 1, 0), job
    assert job["errors"] == [{"row": 4, "field": "last_name", "message": "This field is required."}]
    assert job["unknown_columns"] == ["Lead - Owner"]
    leads = _by_email(org)
    ada = leads["ada@pd.example"]
    assert (ada.first_name, ada.last_name, ada.title, str(ada.opportunity_amount)) == (
        "Ada",
        "Lovelace",
        "Engines deal",
        "1200.50",
    )
    assert list(ada.tags.values_list("name", flat=True)) == ["Hot"]
    grace = leads["grace@pd.example"]
    assert (grace.first_name, grace.last_name) == ("Grace", "Hopper")
    assert sorted(grace.tags.values_list("name", flat=True)) == ["Cold", "Warm"]


def test_zoho_leads_export_as_xlsx(admin_client, org):
    rows = [
        ["Lead Owner", "First Name", "Last Name", "Company", "Email", "Mobile", "Lead Source",
         "Lead Status", "Annual Revenue", "Zip Code", "Description"],
        ["Jane Seller", "Ada", "Lovelace", "Engines", "ada@zoho.example", "+91 98765 43210",
         "Advertisement", "Not Contacted", "5000", "560001", "Warm intro"],
        ["Jane Seller", "Alan", "Turing", "Bletchley", "alan@zoho.example", "", "Cold Call",
         "Pre-Qualified", "", "", ""],
        ["Jane Seller", "Grace", "Hopper", "Navy", "grace@zoho.example", "", "",
         "Contact in Future", "", "", ""],
        ["Jane Seller", "Ed", "D", "TU", "ed@zoho.example", "", "", "Junk Lead", "", "", ""],
        ["Jane Seller", "Bo", "X", "Y", "bo@zoho.example", "", "", "Sleeping", "", "", ""],
    ]  # fmt: skip
    job = upload(admin_client, xlsx_bytes(rows), name="Leads_2024.xlsx")

    # Any other status still fails its row.
    assert _counts(job) == (4, 0, 1, 0), job
    assert job["errors"][0]["row"] == 6 and job["errors"][0]["field"] == "status"
    leads = _by_email(org)
    assert [leads[e].status for e in sorted(leads)] == [
        "assigned",
        "in process",
        "closed",
        "recycled",
    ]
    ada = leads["ada@zoho.example"]
    assert (ada.source, ada.postcode, str(ada.opportunity_amount), ada.description) == (
        "Advertisement",
        "560001",
        "5000.00",
        "Warm intro",
    )


def test_excel_sales_lead_tracker_template(admin_client, org):
    rows = [
        ["Name", "Company", "Email", "Phone", "Status", "Lead Source", "Estimated Value", "Notes"],
        ["Ada Lovelace", "Engines", "ada@xl.example", "555 0100", "In process", "Referral",
         "2500", "Call back Monday"],
    ]  # fmt: skip
    job = upload(admin_client, xlsx_bytes(rows), name="Sales lead tracker.xlsx")

    assert _counts(job) == (1, 0, 0, 0) and job["unknown_columns"] == [], job
    ada = _by_email(org)["ada@xl.example"]
    assert (ada.first_name, ada.last_name, ada.status, ada.source) == (
        "Ada",
        "Lovelace",
        "in process",
        "Referral",
    )
    assert (str(ada.opportunity_amount), ada.description) == ("2500.00", "Call back Monday")


# -- mapping ---------------------------------------------------------------------------


def test_mapping_names_the_fields_of_any_other_headers(admin_client, org):
    rows = [
        ["Prénom", "Nom", "Société", "Courriel", "Ville", "Firstname"],
        ["Ada", "Lovelace", "Engines", "ada@fr.example", "Paris", "ignored"],
    ]
    mapping = {
        "Prénom": "first_name",
        "Nom": "last_name",
        "Société": "account_name",
        "Courriel": "email",
        "Ville": "city",
    }
    job = upload(admin_client, csv_bytes(rows), mapping=json.dumps(mapping))

    assert _counts(job) == (1, 0, 0, 0), job
    assert job["mapping"] == mapping
    # The mapping wins: the synonym column for a mapped field is left over.
    assert job["unknown_columns"] == ["Firstname"]
    ada = _by_email(org)["ada@fr.example"]
    assert (ada.first_name, ada.last_name, ada.account_name, ada.city) == (
        "Ada",
        "Lovelace",
        "Engines",
        "Paris",
    )


def test_mapping_may_come_as_a_query_parameter_and_name_a_full_name_column(admin_client, org):
    rows = [["Contact person", "E"], ["Ada Lovelace", "ada@q.example"]]
    mapping = json.dumps({"Contact person": "full_name", "E": "email"})
    job = upload(admin_client, csv_bytes(rows), name="x.csv")
    assert job["status"] == "failed"  # no name columns without the mapping

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = admin_client.post(
            f"{UPLOAD_URL}?{urlencode({'mapping': mapping})}",
            {"leads_file": SimpleUploadedFile("x.csv", csv_bytes(rows))},
            format="multipart",
        )
    assert response.status_code in (201, 202), response.content
    lead = _by_email(org)["ada@q.example"]
    assert (lead.first_name, lead.last_name) == ("Ada", "Lovelace")


@pytest.mark.parametrize(
    "mapping, message",
    [
        ("{not json", "Expecting property name"),
        ('["first_name"]', "Must be a JSON object"),
        ('{"Nom": "surname"}', "'surname' is not an importable field"),
        ('{"Nom": 3}', "'3' is not an importable field"),
        ('{"A": "last_name", "B": "last_name"}', "both mapped to last_name"),
    ],
)
def test_a_bad_mapping_is_a_400_and_stores_nothing(admin_client, mapping, message):

    response = upload_file(
        admin_client, csv_bytes([["first_name", "last_name"], ["A", "B"]]), mapping=mapping
    )
    assert response.status_code == 400
    body = response.json()
    assert list(body["fields"]) == ["mapping"] and message in body["fields"]["mapping"][0], body
    assert not ImportJob.objects.unscoped().exists()


def test_fields_endpoint_lists_importable_fields_with_their_synonyms(admin_client, user_client):
    response = admin_client.get(f"{UPLOAD_URL}fields/")
    assert response.status_code == 200
    fields = {item["field"]: item for item in response.json()}
    assert (
        fields["first_name"]["required"] is True and "firstname" in fields["first_name"]["synonyms"]
    )
    assert "fullname" in fields["full_name"]["synonyms"]
    assert "zippostalcode" in fields["postcode"]["synonyms"]
    assert fields["email"]["required"] is False
    # Any member may read it (it says nothing about the organization).
    assert user_client.get(f"{UPLOAD_URL}fields/").status_code == 200


# -- on_duplicate=update ---------------------------------------------------------------


def test_update_policy_updates_existing_leads_by_email_with_exact_counts(
    admin_client, org, admin_membership
):
    existing = LeadFactory(
        org=org,
        first_name="Ada",
        last_name="Old",
        email="Ada@Example.com",
        title="Countess",
        city="Old town",
        status="in process",
    )
    untouched = LeadFactory(org=org, email="other@example.com", city="Stays")
    rows = [
        ["First Name", "Last Name", "Email", "Title", "City", "Lead Status", "Tags"],
        ["Ada", "Lovelace", "ada@example.com", "", "London", "", "vip"],  # updates
        ["New", "Person", "new@example.com", "", "", "", ""],  # imported
        ["Again", "Person", "NEW@example.com", "", "", "", ""],  # duplicate in the file
        ["Ada", "Twice", "ada@example.com", "", "Rome", "", ""],  # duplicate in the file
        ["", "Nameless", "x@example.com", "", "", "", ""],  # failed
    ]
    job = upload(admin_client, csv_bytes(rows), on_duplicate="update")

    assert job["status"] == "success" and job["on_duplicate"] == "update"
    assert _counts(job) == (1, 1, 1, 2), job
    assert sum(_counts(job)) == job["total_rows"] == 5
    assert [(d["row"], d["message"]) for d in job["duplicates"]] == [
        (4, "Same e-mail as row 3 (new@example.com)."),
        (5, "Same e-mail as row 2 (ada@example.com)."),
    ]
    existing.refresh_from_db()
    # Non-empty cells replace; empty ones (title, status) keep the lead's values.
    assert (existing.last_name, existing.city, existing.title, existing.status) == (
        "Lovelace",
        "London",
        "Countess",
        "in process",
    )
    assert existing.email == "Ada@Example.com"
    assert list(existing.tags.values_list("name", flat=True)) == ["vip"]
    untouched.refresh_from_db()
    assert untouched.city == "Stays"
    assert Lead.objects.for_org(org).count() == 3


def test_skip_policy_is_the_default_and_dry_run_counts_updates_without_writing(admin_client, org):
    existing = LeadFactory(org=org, email="ada@example.com", city="Old town")
    rows = [["first_name", "last_name", "email", "city"], ["Ada", "L", "ada@example.com", "New"]]

    skipped = upload(admin_client, csv_bytes(rows))
    assert _counts(skipped) == (0, 0, 0, 1) and skipped["on_duplicate"] == "skip"
    dry = upload(admin_client, csv_bytes(rows), on_duplicate="update", dry_run="true")
    assert _counts(dry) == (0, 1, 0, 0)
    existing.refresh_from_db()
    assert existing.city == "Old town"

    bad = upload_file(admin_client, csv_bytes(rows), on_duplicate="merge")
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["on_duplicate"]
