"""Writes on leads run a small, fixed number of queries, each inside the organization's
rows, whatever the organization's size (pinned here; benchmarked at a million leads)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ContactFactory, LeadFactory, TagFactory, TeamFactory

# Without the test's wrapping transaction: the request's own transaction is then a plain
# BEGIN/COMMIT (not counted here, one round trip for the commit) as in production, instead
# of savepoints that production never runs.
pytestmark = pytest.mark.django_db(transaction=True)

# The lead's own statements, the one multi-row INSERT of the write's change-log events, and
# the webhooks' read of the organization's active subscriptions (none here; with some, their
# deliveries add rows to the same INSERTs' transaction).
MAX_WRITE_QUERIES = 12 + 1 + 1
# A side effect (the assignment e-mail) costs the request its outbox row and, after the
# commit, marking it published: what keeps it durable when the broker is down.
OUTBOX_QUERIES = 2


@pytest.fixture
def full_payload(org, admin_membership):
    TagFactory(org=org, name="Enterprise")
    return {
        "title": "Inquiry",
        "first_name": "Robert",
        "last_name": "Johnson",
        "email": "robert@bigcorp.com",
        "phone": "+15559876543",
        "source": "Cold Call",
        "account_name": "Big Corp",
        "opportunity_amount": "75000.00",
        "contacts": [str(ContactFactory(org=org).pk)],
        "assigned_to": [str(admin_membership.user_id)],
        "teams": [str(TeamFactory(org=org).pk)],
        "tags": ["enterprise", "qualified"],
        "city": "Dallas",
    }


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")


@pytest.fixture(autouse=True)
def queued_notifications(monkeypatch):
    """The assignment e-mail is published for a worker; the in-process test runner would run
    it inside the request and count the worker's queries as the request's."""
    queued = []
    monkeypatch.setattr("outbox.services._send", lambda message: queued.append(message.task))
    return queued


def _run(call):
    """The answer, and the statements the request sent (transaction control aside: SQLite
    logs BEGIN/COMMIT, PostgreSQL's driver does not)."""
    with CaptureQueriesContext(connection) as queries:
        response = call()
    sent = [query["sql"] for query in queries]
    return response, [sql for sql in sent if not sql.startswith(TRANSACTION_CONTROL)]


def test_create_with_every_association(admin_client, full_payload, queued_notifications):
    response, queries = _run(lambda: admin_client.post("/api/leads/", full_payload, format="json"))
    assert response.status_code == 201, response.json()
    assert len(queries) <= MAX_WRITE_QUERIES + OUTBOX_QUERIES, "\n".join(queries)
    assert sorted(response.json()["tags"]) == ["Enterprise", "qualified"]
    assert response.json()["contacts"] == full_payload["contacts"]
    assert response.json()["assigned_to"] == full_payload["assigned_to"]
    assert queued_notifications == ["leads.tasks.lead_assignment_notify"]


def test_patch_of_fields(admin_client, org):
    lead = LeadFactory(org=org)
    response, queries = _run(
        lambda: admin_client.patch(
            f"/api/leads/{lead.pk}/", {"status": "in process", "city": "Oslo"}, format="json"
        )
    )
    assert response.status_code == 200, response.json()
    assert response.json()["city"] == "Oslo"
    assert len(queries) <= MAX_WRITE_QUERIES, "\n".join(queries)


def test_patch_of_associations(admin_client, org, full_payload):
    lead = LeadFactory(org=org)
    body = {name: full_payload[name] for name in ("tags", "assigned_to", "teams", "contacts")}
    response, queries = _run(
        lambda: admin_client.patch(f"/api/leads/{lead.pk}/", body, format="json")
    )
    assert response.status_code == 200, response.json()
    assert sorted(response.json()["tags"]) == ["Enterprise", "qualified"]
    # Four associations replaced (read, delete, insert each) stay within a bounded count.
    assert len(queries) <= 2 * MAX_WRITE_QUERIES + OUTBOX_QUERIES, "\n".join(queries)


def test_every_write_query_stays_in_the_organization(admin_client, org, full_payload):
    """Each statement on an organization-owned table names the organization, or reaches
    rows only through ids that were read within it (the new lead's links)."""
    _response, queries = _run(lambda: admin_client.post("/api/leads/", full_payload, format="json"))
    org_id = org.pk.hex
    for sql in queries:
        if re.search(r'FROM "(common_tag|accounts_contact|common_team|leads_lead)"', sql):
            assert org_id in sql.replace("-", ""), sql


def test_capture_from_a_website_form(org, queued_notifications):
    from django.core.cache import cache
    from rest_framework.test import APIClient

    from tests.capture.factories import ApiKeyFactory
    from tests.factories import MembershipFactory

    cache.clear()
    member = MembershipFactory(org=org)
    api_key = ApiKeyFactory(org=org, default_tags=["website", "Inbound"])
    api_key.default_assigned_to.set([member.user])
    person = {"first_name": "John", "last_name": "Prospect", "email": "john@prospect.example"}
    response, queries = _run(
        lambda: APIClient().post(
            f"/api/leads/create-from-site/?apikey={api_key.secret}", person, format="json"
        )
    )
    assert response.status_code == 201, response.json()
    assert len(queries) <= MAX_WRITE_QUERIES + OUTBOX_QUERIES, "\n".join(queries)
    assert queued_notifications == ["leads.tasks.lead_assignment_notify"]
