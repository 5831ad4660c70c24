import pytest
from django.core import mail
from django.core.files.storage import default_storage

from leads.choices import LeadStatus
from leads.models import Attachment, Comment, Lead
from tests.factories import CommentFactory, ContactFactory, MembershipFactory, TeamFactory
from tests.leads.factories import AttachmentFactory
from tests.leads.helpers import make_lead

pytestmark = pytest.mark.django_db

DETAIL_KEYS = {
    "lead_obj",
    "address_obj",
    "assigned_to",
    "teams",
    "comments",
    "attachments",
    "contacts",
    "users_mention",
    "tags",
}
SPEC_LEAD_OBJ_KEYS = {
    "id",
    "title",
    "first_name",
    "last_name",
    "email",
    "phone",
    "status",
    "source",
    "account_name",
    "website",
    "description",
    "opportunity_amount",
    "address_line",
    "city",
    "state",
    "postcode",
    "country",
    "created_on",
    "created_by",
}


@pytest.fixture
def full_lead(org, admin_membership, user_membership):
    lead = make_lead(
        org,
        title="Product Demo Request",
        first_name="Jane",
        last_name="Prospect",
        status=LeadStatus.IN_PROCESS,
        city="Seattle",
        address_line="456 Business St",
        opportunity_amount="50000.00",
        created_by=admin_membership.user,
        tags=["demo", "qualified"],
        assigned_to=[user_membership.user],
    )
    lead.teams.add(TeamFactory(org=org, name="Sales"))
    lead.contacts.add(ContactFactory(org=org, first_name="Carla"))
    CommentFactory(org=org, lead=lead, comment="Called", commented_by=admin_membership.user)
    AttachmentFactory(org=org, lead=lead, created_by=admin_membership.user)
    return lead


def test_spec_example_get_has_the_documented_keys(admin_client, full_lead, admin_membership):
    response = admin_client.get(f"/api/leads/{full_lead.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_KEYS
    assert set(body["lead_obj"]) >= SPEC_LEAD_OBJ_KEYS
    assert body["lead_obj"]["created_by"] == str(admin_membership.user_id)
    assert body["lead_obj"]["org"] == str(full_lead.org_id)
    assert body["lead_obj"]["status"] == "in process"
    assert body["address_obj"]["city"] == "Seattle"
    assert body["address_obj"]["address_line"] == "456 Business St"
    assert [u["id"] for u in body["assigned_to"]] == [str(full_lead.assigned_to.get().pk)]
    assert [t["name"] for t in body["teams"]] == ["Sales"]
    assert [c["comment"] for c in body["comments"]] == ["Called"]
    assert body["comments"][0]["commented_by"]["id"] == str(admin_membership.user_id)
    assert [a["file_name"] for a in body["attachments"]] == ["notes.txt"]
    assert body["attachments"][0]["download_url"].startswith("/api/leads/attachment/")
    assert [c["first_name"] for c in body["contacts"]] == ["Carla"]
    assert body["tags"] == ["demo", "qualified"]
    assert len(body["users_mention"]) == 2


def test_users_mention_lists_only_active_members(admin_client, org, full_lead):
    MembershipFactory(org=org, is_active=False)
    body = admin_client.get(f"/api/leads/{full_lead.pk}/").json()
    assert len(body["users_mention"]) == 2


def test_detail_query_count_does_not_grow_with_comments(admin_client, org, full_lead):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        admin_client.get(f"/api/leads/{full_lead.pk}/")
    for _ in range(5):
        CommentFactory(org=org, lead=full_lead)
        AttachmentFactory(org=org, lead=full_lead)
    with CaptureQueriesContext(connection) as after:
        admin_client.get(f"/api/leads/{full_lead.pk}/")
    assert len(before) == len(after)


def test_converted_lead_is_readable(admin_client, org):
    lead = make_lead(org)
    admin_client.post(f"/api/leads/{lead.pk}/convert/")
    response = admin_client.get(f"/api/leads/{lead.pk}/")
    assert response.status_code == 200
    assert response.json()["lead_obj"]["status"] == "converted"


def test_spec_example_put_updates_only_sent_fields(admin_client, org):
    lead = make_lead(org, title="Keep me", description="old", city="Boston")
    response = admin_client.put(
        f"/api/leads/{lead.pk}/",
        {
            "status": "in process",
            "opportunity_amount": "60000.00",
            "description": "Updated after discovery call",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "in process"
    assert body["opportunity_amount"] == "60000.00"
    assert body["description"] == "Updated after discovery call"
    assert body["title"] == "Keep me"
    lead.refresh_from_db()
    assert (lead.title, lead.city, lead.status) == ("Keep me", "Boston", "in process")


def test_patch_updates_relations_and_normalises(admin_client, org, user_membership):
    lead = make_lead(org, tags=["old"])
    team = TeamFactory(org=org)
    response = admin_client.patch(
        f"/api/leads/{lead.pk}/",
        {
            "tags": ["New"],
            "teams": [str(team.pk)],
            "assigned_to": [str(user_membership.user_id)],
            "phone": "415 555 2671",
            "email": "Mixed@Case.com",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["tags"] == ["New"]
    assert body["teams"] == [str(team.pk)]
    assert body["assigned_to"] == [str(user_membership.user_id)]
    assert body["phone"] == "+14155552671"
    lead.refresh_from_db()
    assert lead.email_normalized == "mixed@case.com"


def test_update_with_blank_name_is_400(admin_client, org):
    lead = make_lead(org)
    response = admin_client.patch(f"/api/leads/{lead.pk}/", {"first_name": ""}, format="json")
    assert response.status_code == 400
    assert "first_name" in response.json()["fields"]


def test_update_with_foreign_assignee_is_400(admin_client, org, other_admin_membership):
    lead = make_lead(org)
    response = admin_client.patch(
        f"/api/leads/{lead.pk}/",
        {"assigned_to": [str(other_admin_membership.user_id)]},
        format="json",
    )
    assert response.status_code == 400


def test_update_notifies_only_newly_assigned(
    admin_client, org, admin_membership, user_membership, django_capture_on_commit_callbacks
):
    lead = make_lead(org, assigned_to=[admin_membership.user])
    newcomer = MembershipFactory(org=org)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.patch(
            f"/api/leads/{lead.pk}/",
            {
                "assigned_to": [
                    str(admin_membership.user_id),
                    str(user_membership.user_id),
                    str(newcomer.user_id),
                ]
            },
            format="json",
        )
    assert response.status_code == 200
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [user_membership.user.email, newcomer.user.email]
    )
    assert all(str(lead.pk) in m.body for m in mail.outbox)


def test_update_without_assignees_sends_nothing(
    admin_client, org, admin_membership, django_capture_on_commit_callbacks
):
    lead = make_lead(org, assigned_to=[admin_membership.user])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.patch(f"/api/leads/{lead.pk}/", {"title": "x"}, format="json")
    assert response.status_code == 200
    assert mail.outbox == []


def test_delete_removes_comments_attachments_and_files(
    admin_client, org, full_lead, django_capture_on_commit_callbacks
):
    stored = Attachment.objects.for_org(org).get().file.name
    assert default_storage.exists(stored)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.delete(f"/api/leads/{full_lead.pk}/")
    assert response.status_code == 204
    assert not Lead.objects.for_org(org).exists()
    assert not Comment.objects.for_org(org).exists()
    assert not Attachment.objects.for_org(org).exists()
    assert not default_storage.exists(stored)


# Role rules


def test_user_can_read_edit_and_delete_own_leads(user_client, org, user_membership):
    assigned = make_lead(org, assigned_to=[user_membership.user])
    created = make_lead(org, created_by=user_membership.user)
    assert user_client.get(f"/api/leads/{assigned.pk}/").status_code == 200
    assert (
        user_client.patch(f"/api/leads/{assigned.pk}/", {"title": "t"}, format="json").status_code
        == 200
    )
    assert user_client.delete(f"/api/leads/{created.pk}/").status_code == 204


def test_user_cannot_touch_leads_of_others(user_client, org, admin_membership):
    lead = make_lead(org, created_by=admin_membership.user, assigned_to=[admin_membership.user])
    url = f"/api/leads/{lead.pk}/"
    assert user_client.get(url).status_code == 404
    assert user_client.put(url, {"title": "x"}, format="json").status_code == 404
    assert user_client.patch(url, {"title": "x"}, format="json").status_code == 404
    assert user_client.delete(url).status_code == 404
    assert user_client.post(url, {"comment": "hi"}, format="json").status_code == 404
    assert user_client.post(f"{url}convert/").status_code == 404
    assert Lead.objects.for_org(org).filter(pk=lead.pk, title=lead.title).exists()


def test_admin_can_edit_any_lead(admin_client, org, user_membership):
    lead = make_lead(org, created_by=user_membership.user)
    response = admin_client.patch(f"/api/leads/{lead.pk}/", {"title": "x"}, format="json")
    assert response.status_code == 200


def test_malformed_id_is_404(admin_client):
    assert admin_client.get("/api/leads/not-a-uuid/").status_code == 404


def test_converted_lead_can_be_deleted_and_account_stays(admin_client, org):
    from accounts.models import Account, Opportunity

    lead = make_lead(org, account_name="Stays")
    admin_client.post(f"/api/leads/{lead.pk}/convert/")
    assert admin_client.delete(f"/api/leads/{lead.pk}/").status_code == 204
    account = Account.objects.for_org(org).get()
    assert account.created_from_lead_id is None
    assert Opportunity.objects.for_org(org).get().lead_id is None


def test_a_member_removed_before_the_email_goes_out_is_not_told(org, user_membership):
    # The e-mail task runs after commit, maybe much later on a busy worker.
    from leads.notifications import lead_assignment_notify

    lead = make_lead(org, assigned_to=[user_membership.user])
    user_membership.is_active = False
    user_membership.save(update_fields=["is_active"])

    sent = lead_assignment_notify(
        lead_id=str(lead.pk), org_id=str(org.pk), user_ids=[str(user_membership.user_id)]
    )

    assert sent == 0 and mail.outbox == []
