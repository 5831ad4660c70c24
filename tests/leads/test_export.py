"""The streamed lead export: the list's leads and filters, every row, cells that cannot
run as formulas, and a file that imports back."""

import csv
import io
import random

import pytest
from openpyxl import load_workbook

from leads.models import Lead
from tests.conftest import client_for
from tests.factories import LeadFactory, TagFactory
from tests.imports.conftest import odd_text, upload

pytestmark = pytest.mark.django_db


def _csv(response) -> list[dict]:
    assert response.status_code == 200, response.content
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_csv_has_every_listed_lead_open_and_closed_with_tags(admin_client, org, other_org):
    lead = LeadFactory(org=org, first_name="Ada", city="Oslo")
    lead.tags.add(TagFactory(org=org, name="vip"), TagFactory(org=org, name="cold"))
    LeadFactory(org=org, first_name="Bea", status="closed")
    LeadFactory(org=org, first_name="Cyd", status="converted")
    LeadFactory(org=other_org, first_name="Theirs")
    response = admin_client.get("/api/leads/export/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = _csv(response)
    assert sorted(row["first_name"] for row in rows) == ["Ada", "Bea"]
    ada = next(row for row in rows if row["first_name"] == "Ada")
    assert ada["tags"] == "cold, vip"
    assert ada["city"] == "Oslo"
    assert ada["id"] == str(lead.pk)


def test_more_rows_than_one_page_all_arrive_once(admin_client, org, settings):
    settings.EXPORT_PAGE_ROWS = 3
    made = {str(LeadFactory(org=org).pk) for _ in range(10)}
    rows = _csv(admin_client.get("/api/leads/export/?ordering=last_name"))
    assert [row["id"] for row in rows if row["id"] in made] and len(rows) == 10
    assert {row["id"] for row in rows} == made


def test_open_leads_come_first_then_closed_each_in_the_lists_order(admin_client, org, settings):
    settings.EXPORT_PAGE_ROWS = 2  # pages that end inside each list
    statuses = ["closed", "assigned", "closed", "in process", "recycled", "closed", "assigned"]
    for n, status in enumerate(statuses):
        LeadFactory(org=org, last_name=f"L{n}", status=status)
    rows = _csv(admin_client.get("/api/leads/export/?ordering=last_name"))
    assert [row["last_name"] for row in rows] == ["L1", "L3", "L4", "L6", "L0", "L2", "L5"]


def test_filters_and_search_apply(admin_client, org):
    # Last names set here: a random one ("Beasley") would match the search too.
    LeadFactory(org=org, first_name="Ada", last_name="A", city="Oslo")
    LeadFactory(org=org, first_name="Bea", last_name="B", city="Rome")
    rows = _csv(admin_client.get("/api/leads/export/?city=osl"))
    assert [row["first_name"] for row in rows] == ["Ada"]
    rows = _csv(admin_client.get("/api/leads/export/?q=bea"))
    assert [row["first_name"] for row in rows] == ["Bea"]


def test_user_member_exports_only_the_leads_they_may_see(user_membership, org):
    mine = LeadFactory(org=org, first_name="Mine")
    mine.assigned_to.add(user_membership.user)
    LeadFactory(org=org, first_name="Created", created_by=user_membership.user)
    LeadFactory(org=org, first_name="Hidden")
    rows = _csv(client_for(user_membership).get("/api/leads/export/"))
    assert sorted(row["first_name"] for row in rows) == ["Created", "Mine"]


def test_formula_like_cells_are_neutralised(admin_client, org):
    LeadFactory(org=org, first_name='=HYPERLINK("http://x")', last_name="+1", title="@SUM(A1)")
    row = _csv(admin_client.get("/api/leads/export/"))[0]
    assert row["first_name"] == '\'=HYPERLINK("http://x")'
    assert row["last_name"] == "'+1"
    assert row["title"] == "'@SUM(A1)"


def test_xlsx_is_a_workbook_with_the_same_rows(admin_client, org):
    LeadFactory(org=org, first_name="Ada", opportunity_amount=1200, title="=1+1")
    LeadFactory(org=org, first_name="Bea", status="closed")
    response = admin_client.get("/api/leads/export/?format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    header = rows[0]
    assert header[:2] == ("first_name", "last_name")
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_name) == {"Ada", "Bea"}
    assert by_name["Ada"]["title"] == "'=1+1"
    assert float(by_name["Ada"]["opportunity_amount"]) == 1200


def test_unknown_format_is_400(admin_client):
    response = admin_client.get("/api/leads/export/?format=pdf")
    assert response.status_code == 400
    assert "format" in response.json()["fields"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_export_imports_back_with_every_row(admin_client, org, admin_membership, kind):
    tags = [TagFactory(org=org, name="vip"), TagFactory(org=org, name="Cold Lead")]
    for n in range(12):
        lead = LeadFactory(
            org=org,
            first_name=f"Name{n}",
            email=f"person{n}@example.com",
            phone="+14155550100",
            status="closed" if n % 3 == 0 else "assigned",
            title="-dash first" if n == 1 else "Title",
        )
        lead.tags.add(*tags)
        lead.assigned_to.add(admin_membership.user)
    response = admin_client.get(f"/api/leads/export/?format={kind}")
    content = b"".join(response.streaming_content)
    Lead.objects.for_org(org).delete()

    job = upload(admin_client, content, name=f"leads.{kind}")

    assert job["status"] == "success", job
    assert (job["imported_count"], job["failed_count"], job["duplicate_count"]) == (12, 0, 0)
    leads = Lead.objects.for_org(org)
    assert leads.count() == 12
    assert leads.filter(status="closed").count() == 4
    assert set(leads.values_list("assigned_to", flat=True)) == {admin_membership.user_id}
    assert set(leads.values_list("tags__name", flat=True)) == {"vip", "Cold Lead"}
    # Cells written with a `'` (formula-like) come back as they were.
    assert set(leads.values_list("phone", flat=True)) == {"+14155550100"}
    assert sorted(set(leads.values_list("title", flat=True))) == ["-dash first", "Title"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_odd_text_exports_and_imports_back_as_it_was(admin_client, org, kind):
    # What the import keeps of a value (its ends stripped) survives the trip out and in:
    # line breaks of any kind, control characters, quotes, formula triggers, emoji.
    rng = random.Random(kind)
    written = {f"person{n}@example.com": odd_text(rng) for n in range(60)}
    for email, text in written.items():
        LeadFactory(org=org, email=email, description=text)
    response = admin_client.get(f"/api/leads/export/?format={kind}")
    content = b"".join(response.streaming_content)
    Lead.objects.for_org(org).delete()

    job = upload(admin_client, content, name=f"leads.{kind}")

    assert job["imported_count"] == len(written), job
    read = dict(Lead.objects.for_org(org).values_list("email", "description"))
    assert read == {email: text.strip() for email, text in written.items()}
