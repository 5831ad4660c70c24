"""Every path that writes to a lead records what it changed: the event's type and action,
each field's old and new value, who acted (user, API key, import job) and through which
channel, under the request's id."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from changelog.models import Event
from leads.models import Comment, Lead
from tests.capture.factories import ApiKeyFactory
from tests.factories import LeadFactory, MembershipFactory
from tests.imports.conftest import csv_bytes, upload
from tests.leads.factories import AssignmentRuleFactory

pytestmark = pytest.mark.django_db


def _events(org, **filters) -> list[Event]:
    return list(Event.objects.for_org(org).filter(**filters).order_by("occurred_at", "id"))


def _one(org, **filters) -> Event:
    found = _events(org, **filters)
    assert len(found) == 1, [(e.type, e.action, e.changes) for e in _events(org)]
    return found[0]


def _by_user(event, membership, channel="api"):
    user = membership.user
    assert (event.actor_type, event.actor_id, event.actor_name) == (
        "user",
        str(user.pk),
        user.full_name,
    )
    assert event.channel == channel


def test_api_create_records_the_fields_and_the_request_id(admin_client, admin_membership, org):
    response = admin_client.post(
        "/api/leads/",
        {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "tags": ["VIP"]},
        format="json",
        HTTP_X_REQUEST_ID="req-create-1",
    )
    assert response.status_code == 201
    assert response["X-Request-ID"] == "req-create-1"
    event = _one(org, type="lead.created")
    assert (event.action, str(event.lead_id)) == ("created", response.json()["id"])
    assert event.changes["first_name"] == [None, "Ada"]
    assert event.changes["email"] == [None, "ada@example.com"]
    assert event.changes["tags"] == [[], ["VIP"]]
    assert event.request_id == "req-create-1"
    _by_user(event, admin_membership)


def test_put_and_patch_record_old_and_new_values(admin_client, admin_membership, org):
    lead = LeadFactory(org=org, city="Lyon", status="assigned")
    admin_client.put(f"/api/leads/{lead.pk}/", {"city": "Paris"}, format="json")
    admin_client.patch(f"/api/leads/{lead.pk}/", {"status": "in process"}, format="json")
    put, patch = _events(org, type="lead.updated")
    assert (put.action, put.changes) == ("updated", {"city": ["Lyon", "Paris"]})
    assert patch.changes == {"status": ["assigned", "in process"]}
    _by_user(put, admin_membership)
    _by_user(patch, admin_membership)


def test_a_write_that_changes_nothing_records_nothing(admin_client, org):
    lead = LeadFactory(org=org, city="Lyon")
    admin_client.patch(f"/api/leads/{lead.pk}/", {"city": "Lyon"}, format="json")
    assert _events(org) == []


def test_assignment_by_patch_records_lead_assigned(admin_client, admin_membership, org):
    lead = LeadFactory(org=org)
    colleague = MembershipFactory(org=org)
    admin_client.patch(
        f"/api/leads/{lead.pk}/", {"assigned_to": [str(colleague.user_id)]}, format="json"
    )
    event = _one(org, type="lead.assigned")
    assert event.action == "assigned"
    assert event.changes == {"assigned_to": [[], [str(colleague.user_id)]]}
    _by_user(event, admin_membership)


def test_delete_records_what_the_lead_was(admin_client, admin_membership, org):
    lead = LeadFactory(org=org, first_name="Gone", city="Oslo")
    assert admin_client.delete(f"/api/leads/{lead.pk}/").status_code == 204
    event = _one(org, type="lead.deleted")
    assert (event.action, event.lead_id) == ("deleted", lead.pk)
    assert event.changes["first_name"] == ["Gone", None]
    assert event.changes["city"] == ["Oslo", None]
    _by_user(event, admin_membership)


def test_comments_record_their_text_through_their_life(admin_client, admin_membership, org):
    lead = LeadFactory(org=org)
    admin_client.post(f"/api/leads/{lead.pk}/", {"comment": "First call"}, format="json")
    comment = Comment.objects.for_org(org).get()
    admin_client.put(f"/api/leads/comment/{comment.pk}/", {"comment": "Called"}, format="json")
    admin_client.delete(f"/api/leads/comment/{comment.pk}/")
    added, edited, deleted = _events(org, lead_id=lead.pk)
    value = {"id": str(comment.pk)}
    assert (added.type, added.action) == ("lead.updated", "commented")
    assert added.changes == {"comment": [None, {**value, "text": "First call"}]}
    assert edited.action == "comment_updated"
    assert edited.changes == {
        "comment": [{**value, "text": "First call"}, {**value, "text": "Called"}]
    }
    assert deleted.action == "comment_deleted"
    assert deleted.changes == {"comment": [{**value, "text": "Called"}, None]}
    for event in (added, edited, deleted):
        _by_user(event, admin_membership)


def test_attachments_record_the_file(admin_client, admin_membership, org):
    lead = LeadFactory(org=org)
    response = admin_client.post(
        f"/api/leads/{lead.pk}/",
        {"attachment": SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")},
        format="multipart",
    )
    attachment_id = response.json()["attachment"]["id"]
    admin_client.delete(f"/api/leads/attachment/{attachment_id}/")
    added, deleted = _events(org, lead_id=lead.pk)
    value = {"id": attachment_id, "file_name": "notes.txt", "size": 5}
    assert (added.type, added.action, added.changes) == (
        "lead.updated",
        "attachment_added",
        {"attachment": [None, value]},
    )
    assert (deleted.action, deleted.changes) == (
        "attachment_deleted",
        {"attachment": [value, None]},
    )
    _by_user(added, admin_membership)
    _by_user(deleted, admin_membership)


def test_conversion_records_what_it_made(admin_client, admin_membership, org):
    lead = LeadFactory(org=org, status="in process", account_name="Big Corp")
    answer = admin_client.post(f"/api/leads/{lead.pk}/convert/").json()
    event = _one(org, type="lead.converted")
    assert event.action == "converted"
    assert event.changes["status"] == ["in process", "converted"]
    assert event.changes["converted_account"] == [None, answer["account"]["id"]]
    _by_user(event, admin_membership, channel="conversion")


def _submit(api_key, body):
    from rest_framework.test import APIClient

    return APIClient().post(
        f"/api/leads/create-from-site/?apikey={api_key.secret}", body, format="json"
    )


def test_capture_records_the_key_as_the_actor(org):
    api_key = ApiKeyFactory(org=org)
    response = _submit(api_key, {"first_name": "Web", "last_name": "Lead", "email": "w@x.io"})
    assert response.status_code == 201
    event = _one(org, type="lead.created")
    assert event.changes["email"] == [None, "w@x.io"]
    assert event.changes["source"] == [None, "Website"] or event.changes["source"][0] is None
    assert (event.actor_type, event.actor_id, event.actor_name) == (
        "api_key",
        str(api_key.pk),
        api_key.name,
    )
    assert event.channel == "web_form"


def test_capture_of_a_known_address_records_the_submission_on_the_lead(org):
    api_key = ApiKeyFactory(org=org)
    _submit(api_key, {"first_name": "Web", "last_name": "Lead", "email": "w@x.io"})
    lead = Lead.objects.for_org(org).get()
    _submit(api_key, {"first_name": "Webb", "last_name": "Lead", "email": "w@x.io"})
    event = _one(org, action="submission_linked")
    assert (event.type, event.lead_id) == ("lead.updated", lead.pk)
    assert event.changes["submission"][0] is None
    assert event.changes["submission"][1]["first_name"] == "Webb"
    assert (event.actor_type, event.actor_id, event.channel) == (
        "api_key",
        str(api_key.pk),
        "web_form",
    )


def test_an_assignment_rule_records_its_choice(admin_client, admin_membership, org):
    seller = MembershipFactory(org=org)
    AssignmentRuleFactory(org=org, match_source="Cold Call", users=[seller.user])
    lead_id = admin_client.post(
        "/api/leads/", {"first_name": "R", "last_name": "S", "source": "Cold Call"}, format="json"
    ).json()["id"]
    event = _one(org, type="lead.assigned")
    assert str(event.lead_id) == lead_id
    assert event.changes == {"assigned_to": [[], [str(seller.user_id)]]}
    # The rule chose, on behalf of the member who created the lead.
    _by_user(event, admin_membership, channel="assignment_rule")
    _by_user(_one(org, type="lead.created"), admin_membership)


def test_an_import_records_its_rows_and_its_end(admin_client, org):
    rows = [
        ["First Name", "Last Name", "Email", "City"],
        ["Ann", "One", "ann@example.com", "Rome"],
        ["Bob", "Two", "bob@example.com", ""],
    ]
    job = upload(admin_client, csv_bytes(rows))
    assert job["status"] == "success"
    created = _events(org, type="lead.created")
    assert len(created) == 2
    by_email = {event.changes["email"][1]: event for event in created}
    assert by_email["ann@example.com"].changes["city"] == [None, "Rome"]
    assert "city" not in by_email["bob@example.com"].changes
    finished = _one(org, type="import.finished")
    assert finished.lead_id is None
    assert finished.changes["imported_count"] == [None, 2]
    assert finished.changes["status"] == ["running", "success"]
    for event in [*created, finished]:
        assert (event.actor_type, event.actor_id, event.channel) == ("import", job["id"], "import")


def test_an_import_that_updates_records_old_and_new_values(admin_client, org):
    lead = LeadFactory(org=org, email="ann@example.com", city="Rome", title="")
    rows = [
        ["First Name", "Last Name", "Email", "City", "Title"],
        [lead.first_name, lead.last_name, "ann@example.com", "Milan", "CTO"],
    ]
    job = upload(admin_client, csv_bytes(rows), on_duplicate="update")
    assert job["status"] == "success", job
    event = _one(org, type="lead.updated")
    assert event.lead_id == lead.pk
    assert event.changes == {"city": ["Rome", "Milan"], "title": ["", "CTO"]}
    assert (event.actor_type, event.actor_id, event.channel) == ("import", job["id"], "import")


def test_the_events_of_a_rolled_back_write_are_gone(admin_client, org):
    lead = LeadFactory(org=org, status="converted")
    response = admin_client.patch(f"/api/leads/{lead.pk}/", {"status": "closed"}, format="json")
    assert response.status_code == 409
    assert _events(org) == []


def test_listeners_hear_each_write_in_its_transaction(admin_client, org):
    from changelog import services

    heard = []
    services._listeners.append(heard.extend)
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            admin_client.post("/api/leads/", {"first_name": "A", "last_name": "B"}, format="json")
    finally:
        services._listeners.remove(heard.extend)
    assert [event.type for event in heard] == ["lead.created"]
