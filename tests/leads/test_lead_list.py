import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.choices import LeadSource, LeadStatus
from tests.factories import ContactFactory
from tests.leads.helpers import make_lead

pytestmark = pytest.mark.django_db

LIST_KEYS = {
    "open_leads",
    "closed_leads",
    "open_leads_count",
    "closed_leads_count",
    "counts_exact",
    "next_cursor",
    "contacts",
    "users",
    "source_list",
    "tags",
    "status",
}
SPEC_LEAD_KEYS = {
    "id",
    "title",
    "first_name",
    "last_name",
    "email",
    "phone",
    "status",
    "source",
    "account_name",
    "opportunity_amount",
    "created_on",
    "assigned_to",
    "tags",
}


def ids(leads):
    return [lead["id"] for lead in leads]


def test_spec_example_request_gets_the_documented_shape(admin_client, org, admin_membership):
    user = admin_membership.user
    lead = make_lead(
        org,
        title="Product Demo Request",
        first_name="Jane",
        last_name="Prospect",
        email="jane@prospect.com",
        phone="+1987654321",
        status=LeadStatus.ASSIGNED,
        source="Website Form",
        account_name="Prospect Corp",
        opportunity_amount="50000.00",
        tags=["demo", "qualified"],
        assigned_to=[user],
    )
    ContactFactory(org=org, first_name="Carl")

    response = admin_client.get("/api/leads/?status=assigned&source=website&limit=5")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == LIST_KEYS
    assert body["open_leads_count"] == 1
    assert body["closed_leads_count"] == 0
    assert body["closed_leads"] == []
    item = body["open_leads"][0]
    assert set(item) >= SPEC_LEAD_KEYS
    assert item["id"] == str(lead.pk)
    assert item["opportunity_amount"] == "50000.00"
    assert item["assigned_to"] == [str(user.pk)]
    assert sorted(item["tags"]) == ["demo", "qualified"]
    assert [c["first_name"] for c in body["contacts"]] == ["Carl"]
    assert str(user.pk) in {u["id"] for u in body["users"]}
    assert body["source_list"][: len(LeadSource.values)] == list(LeadSource.values)
    assert sorted(body["tags"]) == ["demo", "qualified"]
    assert set(body["status"]) == set(LeadStatus.values)


def test_open_and_closed_split_newest_first_and_converted_excluded(admin_client, org):
    older = make_lead(org, status=LeadStatus.ASSIGNED)
    newer = make_lead(org, status=LeadStatus.IN_PROCESS)
    recycled = make_lead(org, status=LeadStatus.RECYCLED)
    closed = make_lead(org, status=LeadStatus.CLOSED)
    make_lead(org, status=LeadStatus.CONVERTED)

    body = admin_client.get("/api/leads/").json()

    assert ids(body["open_leads"]) == [str(recycled.pk), str(newer.pk), str(older.pk)]
    assert ids(body["closed_leads"]) == [str(closed.pk)]
    assert (body["open_leads_count"], body["closed_leads_count"]) == (3, 1)


def test_limit_and_offset_apply_to_each_list_and_counts_are_totals(admin_client, org):
    open_leads = [make_lead(org, status=LeadStatus.ASSIGNED) for _ in range(5)]
    closed_leads = [make_lead(org, status=LeadStatus.CLOSED) for _ in range(4)]

    body = admin_client.get("/api/leads/?limit=2&offset=1").json()

    assert ids(body["open_leads"]) == [str(lead.pk) for lead in open_leads[::-1][1:3]]
    assert ids(body["closed_leads"]) == [str(lead.pk) for lead in closed_leads[::-1][1:3]]
    assert (body["open_leads_count"], body["closed_leads_count"]) == (5, 4)


def test_default_limit_is_ten_and_limit_is_capped_at_100(admin_client, org):
    for _ in range(12):
        make_lead(org)
    assert len(admin_client.get("/api/leads/").json()["open_leads"]) == 10
    assert len(admin_client.get("/api/leads/?limit=1000").json()["open_leads"]) == 12


@pytest.mark.parametrize("query", ["limit=abc", "limit=-1", "offset=-3", "offset=x"])
def test_malformed_paging_is_400(admin_client, query):
    response = admin_client.get(f"/api/leads/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_limit_cap_keeps_query_count_constant(admin_client, org, admin_membership):
    def queries_for(count):
        for _ in range(count):
            make_lead(org, tags=["a", "b"], assigned_to=[admin_membership.user])
            make_lead(org, status=LeadStatus.CLOSED, tags=["c"])
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get("/api/leads/?limit=100")
        assert response.status_code == 200
        return len(captured), response.json()

    few, small = queries_for(1)
    many, large = queries_for(29)
    assert len(small["open_leads"]) == 1
    assert len(large["open_leads"]) == 30
    assert few == many


def test_filter_name_matches_first_or_last_name(admin_client, org):
    first = make_lead(org, first_name="Marianne", last_name="Smith")
    last = make_lead(org, first_name="Bob", last_name="MARIAN")
    make_lead(org, first_name="Zed", last_name="Other")
    body = admin_client.get("/api/leads/?name=marian").json()
    assert set(ids(body["open_leads"])) == {str(first.pk), str(last.pk)}
    body = admin_client.get("/api/leads/", {"name": "marianne smi"}).json()
    assert ids(body["open_leads"]) == [str(first.pk)]


@pytest.mark.parametrize(
    ("field", "value", "query"),
    [
        ("title", "Enterprise software inquiry", "title=software"),
        ("source", "Cold Call", "source=cold call"),
        ("source", "Partner portal", "source=PARTNER"),
        ("city", "Dallas", "city=dall"),
        ("email", "Robert@BigCorp.com", "email=robert@bigcorp"),
    ],
)
def test_text_filters(admin_client, org, field, value, query):
    match = make_lead(org, **{field: value})
    make_lead(org, **{field: "something else"})
    body = admin_client.get(f"/api/leads/?{query}").json()
    assert ids(body["open_leads"]) == [str(match.pk)]
    assert body["open_leads_count"] == 1


def test_filter_status(admin_client, org):
    in_process = make_lead(org, status=LeadStatus.IN_PROCESS)
    make_lead(org, status=LeadStatus.ASSIGNED)
    closed = make_lead(org, status=LeadStatus.CLOSED)
    body = admin_client.get("/api/leads/?status=in process").json()
    assert ids(body["open_leads"]) == [str(in_process.pk)]
    assert body["closed_leads"] == []
    body = admin_client.get("/api/leads/?status=closed").json()
    assert body["open_leads"] == []
    assert ids(body["closed_leads"]) == [str(closed.pk)]


@pytest.mark.parametrize("status", ["converted", "bogus", "ASSIGNED"])
def test_unknown_or_converted_status_is_400(admin_client, status):
    response = admin_client.get("/api/leads/", {"status": status})
    assert response.status_code == 400
    assert "status" in response.json()["fields"]


def test_filter_assigned_to(admin_client, org, admin_membership, user_membership):
    mine = make_lead(org, assigned_to=[admin_membership.user, user_membership.user])
    make_lead(org, assigned_to=[user_membership.user])
    make_lead(org)
    body = admin_client.get(f"/api/leads/?assigned_to={admin_membership.user_id}").json()
    assert ids(body["open_leads"]) == [str(mine.pk)]


def test_malformed_assigned_to_is_400(admin_client):
    response = admin_client.get("/api/leads/?assigned_to=not-a-uuid")
    assert response.status_code == 400
    assert "assigned_to" in response.json()["fields"]


def test_unknown_assigned_to_matches_nothing(admin_client, org):
    make_lead(org)
    body = admin_client.get(f"/api/leads/?assigned_to={uuid.uuid4()}").json()
    assert body["open_leads"] == []


def test_filter_tags_any_case_insensitive_without_duplicates(admin_client, org):
    both = make_lead(org, tags=["Demo", "Qualified"])
    one = make_lead(org, tags=["qualified"])
    make_lead(org, tags=["other"])
    body = admin_client.get("/api/leads/?tags=demo, QUALIFIED").json()
    assert sorted(ids(body["open_leads"])) == sorted([str(both.pk), str(one.pk)])
    assert body["open_leads_count"] == 2


def test_user_role_sees_only_assigned_or_created(user_client, org, user_membership):
    user = user_membership.user
    assigned = make_lead(org, assigned_to=[user])
    created = make_lead(org, created_by=user)
    make_lead(org)
    body = user_client.get("/api/leads/").json()
    assert sorted(ids(body["open_leads"])) == sorted([str(assigned.pk), str(created.pk)])
    assert body["open_leads_count"] == 2


def test_admin_sees_all(admin_client, org, user_membership):
    make_lead(org, assigned_to=[user_membership.user])
    make_lead(org)
    assert admin_client.get("/api/leads/").json()["open_leads_count"] == 2


def test_other_organization_leads_never_listed(admin_client, other_org_lead):
    body = admin_client.get("/api/leads/").json()
    assert body["open_leads"] == []
    assert body["open_leads_count"] == 0


def test_missing_org_header_is_400_and_foreign_org_is_403(admin_client, other_org):
    admin_client.credentials(HTTP_AUTHORIZATION=admin_client._credentials["HTTP_AUTHORIZATION"])
    assert admin_client.get("/api/leads/").status_code == 400
    admin_client.credentials(
        HTTP_AUTHORIZATION=admin_client._credentials["HTTP_AUTHORIZATION"],
        HTTP_ORGANIZATION_ID=str(other_org.pk),
    )
    assert admin_client.get("/api/leads/").status_code == 403


def test_unauthenticated_is_401(client, org):
    assert client.get("/api/leads/", HTTP_ORGANIZATION_ID=str(org.pk)).status_code == 401


def test_source_list_has_common_then_used_sources(admin_client, org):
    make_lead(org, source="Partner portal")
    make_lead(org, source="Cold Call")
    body = admin_client.get("/api/leads/").json()
    # The contract's common sources, in its order, then the organization's own.
    common = ["Website Form", "Cold Call", "Referral", "Trade Show", "Email Campaign"]
    common += ["Social Media", "Advertisement"]
    assert body["source_list"] == [*common, "Partner portal"]
