import json
import uuid

import pytest
from django.core import mail

from accounts.models import Account, Contact, Opportunity
from common.models import Tag
from leads.choices import LeadStatus
from leads.models import Attachment, Lead
from tests.factories import ContactFactory, MembershipFactory, TagFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def spec_payload(org, admin_membership):
    contact = ContactFactory(org=org)
    team = TeamFactory(org=org, name="Sales")
    return {
        "title": "Enterprise Software Inquiry",
        "first_name": "Robert",
        "last_name": "Johnson",
        "email": "robert@bigcorp.com",
        "phone": "+1555987654",
        "status": "assigned",
        "source": "Cold Call",
        "account_name": "Big Corp Industries",
        "website": "https://bigcorp.com",
        "description": "Interested in enterprise solution for 500+ users",
        "opportunity_amount": "75000.00",
        "contacts": [str(contact.pk)],
        "assigned_to": [str(admin_membership.user_id)],
        "teams": [str(team.pk)],
        "tags": ["enterprise", "qualified"],
        "address_line": "789 Corporate Blvd",
        "city": "Dallas",
        "state": "TX",
        "postcode": "75201",
        "country": "USA",
    }


def test_spec_example_creates_the_lead(admin_client, org, spec_payload, admin_membership):
    response = admin_client.post("/api/leads/", spec_payload, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["converted_account"] is None
    for key in ("title", "first_name", "email", "status", "source", "city", "country"):
        assert body[key] == spec_payload[key]
    assert body["opportunity_amount"] == "75000.00"
    assert body["contacts"] == spec_payload["contacts"]
    assert body["assigned_to"] == spec_payload["assigned_to"]
    assert body["teams"] == spec_payload["teams"]
    assert sorted(body["tags"]) == ["enterprise", "qualified"]
    assert body["created_by"] == str(admin_membership.user_id)
    lead = Lead.objects.for_org(org).get(pk=body["id"])
    assert lead.email_normalized == "robert@bigcorp.com"
    assert lead.status == LeadStatus.ASSIGNED


def test_phone_is_normalised_and_email_kept_as_given(admin_client, org):
    response = admin_client.post(
        "/api/leads/",
        {"first_name": "A", "last_name": "B", "phone": "(415) 555-2671", "email": "Ab@X.com"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "+14155552671"
    assert response.json()["email"] == "Ab@X.com"
    lead = Lead.objects.for_org(org).get(pk=response.json()["id"])
    assert lead.email_normalized == "ab@x.com"


def test_unparseable_phone_is_kept_as_sent(admin_client):
    response = admin_client.post(
        "/api/leads/", {"first_name": "A", "last_name": "B", "phone": "call me"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["phone"] == "call me"


@pytest.mark.parametrize("missing", ["first_name", "last_name"])
def test_names_are_required(admin_client, missing):
    payload = {"first_name": "A", "last_name": "B"}
    del payload[missing]
    response = admin_client.post("/api/leads/", payload, format="json")
    assert response.status_code == 400
    assert missing in response.json()["fields"]


@pytest.mark.parametrize("field", ["contacts", "assigned_to", "teams"])
def test_association_ids_from_another_org_are_400(
    admin_client, other_org, other_admin_membership, field
):
    foreign = {
        "contacts": lambda: ContactFactory(org=other_org).pk,
        "assigned_to": lambda: other_admin_membership.user_id,
        "teams": lambda: TeamFactory(org=other_org).pk,
    }[field]()
    response = admin_client.post(
        "/api/leads/",
        {"first_name": "A", "last_name": "B", field: [str(foreign)]},
        format="json",
    )
    assert response.status_code == 400
    assert field in str(response.json()["fields"])
    assert Lead.objects.unscoped().count() == 0


@pytest.mark.parametrize("value", ["nope", str(uuid.uuid4())])
def test_bad_association_ids_are_400(admin_client, value):
    response = admin_client.post(
        "/api/leads/", {"first_name": "A", "last_name": "B", "teams": [value]}, format="json"
    )
    assert response.status_code == 400


def test_inactive_member_cannot_be_assigned(admin_client, org):
    gone = MembershipFactory(org=org, is_active=False)
    response = admin_client.post(
        "/api/leads/",
        {"first_name": "A", "last_name": "B", "assigned_to": [str(gone.user_id)]},
        format="json",
    )
    assert response.status_code == 400


def test_tags_created_on_first_use_and_reused_case_insensitively(admin_client, org):
    existing = TagFactory(org=org, name="VIP")
    response = admin_client.post(
        "/api/leads/",
        {"first_name": "A", "last_name": "B", "tags": ["vip", "New one"]},
        format="json",
    )
    assert response.status_code == 201
    assert sorted(response.json()["tags"]) == ["New one", "VIP"]
    assert Tag.objects.for_org(org).count() == 2
    assert Tag.objects.for_org(org).filter(pk=existing.pk).exists()


def test_multipart_with_attachment_and_repeated_list_keys(admin_client, org, admin_membership):
    team_a, team_b = TeamFactory(org=org), TeamFactory(org=org)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = admin_client.post(
        "/api/leads/",
        {
            "first_name": "Multi",
            "last_name": "Part",
            "teams": [str(team_a.pk), str(team_b.pk)],
            "assigned_to": str(admin_membership.user_id),
            "tags": '["alpha", "beta"]',
            "opportunity_amount": "",
            "attachment": SimpleUploadedFile("brief.pdf", b"%PDF-1.4 hello", "application/pdf"),
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert sorted(body["teams"]) == sorted([str(team_a.pk), str(team_b.pk)])
    assert body["assigned_to"] == [str(admin_membership.user_id)]
    assert sorted(body["tags"]) == ["alpha", "beta"]
    assert body["opportunity_amount"] is None
    assert [a["file_name"] for a in body["attachments"]] == ["brief.pdf"]
    attachment = Attachment.objects.for_org(org).get()
    assert attachment.file.read() == b"%PDF-1.4 hello"
    assert "brief" not in attachment.file.name


def test_multipart_comma_separated_tags(admin_client):
    response = admin_client.post(
        "/api/leads/",
        {"first_name": "A", "last_name": "B", "tags": "one, two"},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert sorted(response.json()["tags"]) == ["one", "two"]


def test_json_tags_as_one_string(admin_client):
    response = admin_client.post(
        "/api/leads/",
        data=json.dumps({"first_name": "A", "last_name": "B", "tags": "x,y"}),
        content_type="application/json",
    )
    assert response.status_code == 201
    assert sorted(response.json()["tags"]) == ["x", "y"]


def test_attachment_over_limit_is_413_and_creates_nothing(admin_client, org, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.ATTACHMENT_MAX_BYTES = 10
    response = admin_client.post(
        "/api/leads/",
        {
            "first_name": "A",
            "last_name": "B",
            "attachment": SimpleUploadedFile("big.bin", b"x" * 11),
        },
        format="multipart",
    )
    assert response.status_code == 413
    assert response.json()["code"] == "attachment_too_large"
    assert Lead.objects.for_org(org).count() == 0


@pytest.mark.parametrize("flag", [{"auto_convert": True}, {"status": "converted"}])
def test_create_with_conversion(admin_client, org, flag):
    response = admin_client.post(
        "/api/leads/",
        {
            "first_name": "Conv",
            "last_name": "Erted",
            "account_name": "Acme",
            "title": "Big deal",
            "opportunity_amount": "1000.00",
            **flag,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "converted"
    account = body["converted_account"]
    assert account["name"] == "Acme"
    assert [c["first_name"] for c in account["contacts"]] == ["Conv"]
    assert [(o["name"], o["amount"]) for o in account["opportunities"]] == [("Big deal", "1000.00")]
    assert Account.objects.for_org(org).count() == 1
    assert Contact.objects.for_org(org).count() == 1
    assert Opportunity.objects.for_org(org).count() == 1


def test_invalid_email_is_400(admin_client):
    response = admin_client.post(
        "/api/leads/", {"first_name": "A", "last_name": "B", "email": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert "email" in response.json()["fields"]


def test_org_cannot_be_set_through_the_body(admin_client, org, other_org):
    response = admin_client.post(
        "/api/leads/",
        {"first_name": "A", "last_name": "B", "org": str(other_org.pk)},
        format="json",
    )
    # Not a field a client may send: refused on that field, and nothing is created anywhere.
    assert response.status_code == 400
    assert response.json()["fields"] == {"org": ["Unknown field."]}
    assert not Lead.objects.unscoped().exists()


def test_assignment_notifies_each_assignee_after_commit(
    admin_client, org, admin_membership, user_membership, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/api/leads/",
            {
                "first_name": "A",
                "last_name": "B",
                "assigned_to": [str(admin_membership.user_id), str(user_membership.user_id)],
            },
            format="json",
        )
    assert response.status_code == 201
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [admin_membership.user.email, user_membership.user.email]
    )


def test_multipart_without_chosen_file_and_empty_lists(admin_client):
    response = admin_client.post(
        "/api/leads/",
        {"first_name": "A", "last_name": "B", "attachment": "", "tags": "", "teams": ""},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["attachments"] == []
    assert response.json()["tags"] == []


@pytest.mark.parametrize("field", ["tags", "contacts", "assigned_to", "teams"])
def test_association_lists_are_bounded(admin_client, org, admin_membership, field):
    """One request cannot create thousands of tags or run a lookup per id for thousands
    of ids: each association list is capped, and nothing is written beyond it."""
    one = {
        "tags": None,
        "contacts": lambda: ContactFactory(org=org).pk,
        "assigned_to": lambda: admin_membership.user_id,
        "teams": lambda: TeamFactory(org=org).pk,
    }[field]
    values = [f"tag {n}" for n in range(101)] if one is None else [str(one())] * 101
    body = {"first_name": "Many", "last_name": "Items", field: values}

    response = admin_client.post("/api/leads/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Lead.objects.for_org(org).exists()
    assert not Tag.objects.for_org(org).exists()
