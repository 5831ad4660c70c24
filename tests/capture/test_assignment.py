"""Website capture and the assignment rules: a website lead follows the organization's
rules, then the key's default assignees; retries with one Idempotency-Key make one lead.
(The rules themselves: tests/leads/test_assignment.py.)"""

import threading

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from leads.models import AssignmentRule, Lead
from tests.capture.factories import ApiKeyFactory
from tests.concurrency import run_in_threads
from tests.factories import member_users
from tests.leads.factories import AssignmentRuleFactory

SITE = "/api/leads/create-from-site/"


@pytest.mark.django_db
def test_another_organizations_rules_never_apply(org, other_org):
    theirs = member_users(other_org, 1)[0]
    AssignmentRuleFactory(org=other_org, users=[theirs])
    mine = member_users(org, 1)[0]
    api_key = ApiKeyFactory(org=org)
    api_key.default_assigned_to.set([mine])
    response = APIClient().post(
        f"{SITE}?apikey={api_key.secret}",
        {"first_name": "A", "last_name": "B"},
        format="json",
        HTTP_ORGANIZATION_ID=str(other_org.pk),
    )
    lead = Lead.objects.for_org(org).get(pk=response.json()["id"])
    assert [user.pk for user in lead.assigned_to.all()] == [mine.pk]
    assert AssignmentRule.objects.for_org(other_org).get().assigned_count == 0


@pytest.mark.django_db
def test_website_lead_follows_a_matching_rule_over_key_defaults(org):
    ruled = member_users(org, 1)[0]
    default = member_users(org, 1)[0]
    AssignmentRuleFactory(org=org, match_state="TX", users=[ruled])
    api_key = ApiKeyFactory(org=org)
    api_key.default_assigned_to.set([default])
    url = f"{SITE}?apikey={api_key.secret}"
    texan = APIClient().post(url, {"first_name": "A", "last_name": "B", "state": "tx"}).json()
    other = APIClient().post(url, {"first_name": "C", "last_name": "D", "state": "WA"}).json()
    leads = Lead.objects.for_org(org)
    assert [u.pk for u in leads.get(pk=texan["id"]).assigned_to.all()] == [ruled.pk]
    assert [u.pk for u in leads.get(pk=other["id"]).assigned_to.all()] == [default.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_idempotency_key_create_one_lead(org):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    api_key = ApiKeyFactory(org=org)
    barrier = threading.Barrier(8, timeout=30)
    answers = []

    def post(n):
        try:
            barrier.wait()
            response = APIClient().post(
                f"{SITE}?apikey={api_key.secret}",
                {"first_name": "Retry", "last_name": str(n)},
                format="json",
                HTTP_IDEMPOTENCY_KEY="one-submission",
                REMOTE_ADDR=f"10.0.0.{n}",
            )
            answers.append((response.status_code, response.json()["id"]))
        finally:
            connections.close_all()

    run_in_threads(post, [(n,) for n in range(8)])
    assert Lead.objects.for_org(org).count() == 1
    assert sorted(code for code, _ in answers) == [200] * 7 + [201]
    assert len({lead_id for _, lead_id in answers}) == 1
