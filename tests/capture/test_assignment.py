import threading
from collections import Counter

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from capture.models import AssignmentRule
from common.models import Membership
from leads.assignment import LeadFacts, assignees_for_new_lead, assignees_for_new_leads
from leads.models import Lead
from leads.services import lead_create
from tests.capture.factories import ApiKeyFactory, AssignmentRuleFactory
from tests.factories import MembershipFactory, TeamFactory

SITE = "/api/leads/create-from-site/"


def members(org, count):
    return [MembershipFactory(org=org).user for _ in range(count)]


@pytest.mark.django_db
def test_rules_match_by_priority_and_fall_back_to_key_defaults(org):
    emea, us_west, tagged, fallback = (members(org, 1)[0] for _ in range(4))
    AssignmentRuleFactory(org=org, priority=10, match_country="germany", users=[emea])
    AssignmentRuleFactory(
        org=org, priority=20, match_country="USA", match_state="ca", users=[us_west]
    )
    AssignmentRuleFactory(org=org, priority=30, match_tags=["VIP"], users=[tagged])
    AssignmentRuleFactory(
        org=org, priority=5, match_source="Referral", is_active=False, users=[fallback]
    )

    def who(**facts):
        return assignees_for_new_lead(org=org, lead=LeadFacts(**facts), fallback=[fallback])

    assert who(country="Germany", tags=frozenset({"vip"})) == [emea]
    assert who(country="usa", state="CA") == [us_west]
    assert who(country="usa", state="NY") == [fallback]
    assert who(tags=frozenset({"vip", "x"})) == [tagged]
    assert who(source="Referral") == [fallback]


@pytest.mark.django_db
def test_round_robin_over_a_team_skips_inactive_members(org):
    team = TeamFactory(org=org)
    active = members(org, 3)
    left_org = MembershipFactory(org=org)
    left_org.is_active = False
    left_org.save()
    deactivated = MembershipFactory(org=org).user
    deactivated.is_active = False
    deactivated.save()
    team.users.set([*active, left_org.user, deactivated])
    AssignmentRuleFactory(org=org, match_source="Website Form", team=team)

    got = [
        assignees_for_new_lead(org=org, lead=LeadFacts(source="website form"))[0] for _ in range(6)
    ]
    assert Counter(got) == {user: 2 for user in active}
    # Strict rotation: each member once per round, in the same order every round.
    assert len(set(got[:3])) == 3 and got[3:] == got[:3]


@pytest.mark.django_db
def test_rule_without_active_members_is_skipped(org):
    gone = MembershipFactory(org=org)
    Membership.objects.for_org(org).filter(pk=gone.pk).update(is_active=False)
    backup = members(org, 1)[0]
    AssignmentRuleFactory(org=org, priority=1, users=[gone.user])
    AssignmentRuleFactory(org=org, priority=2, users=[backup])
    assert assignees_for_new_lead(org=org, lead=LeadFacts()) == [backup]


@pytest.mark.django_db
def test_inactive_fallback_users_are_dropped(org):
    keep, gone = members(org, 2)
    gone.is_active = False
    gone.save()
    assert assignees_for_new_lead(org=org, lead=LeadFacts(), fallback=[keep, gone]) == [keep]


@pytest.mark.django_db
def test_another_organizations_rules_never_apply(org, other_org):
    theirs = members(other_org, 1)[0]
    AssignmentRuleFactory(org=other_org, users=[theirs])
    mine = members(org, 1)[0]
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
    ruled = members(org, 1)[0]
    default = members(org, 1)[0]
    AssignmentRuleFactory(org=org, match_state="TX", users=[ruled])
    api_key = ApiKeyFactory(org=org)
    api_key.default_assigned_to.set([default])
    url = f"{SITE}?apikey={api_key.secret}"
    texan = APIClient().post(url, {"first_name": "A", "last_name": "B", "state": "tx"}).json()
    other = APIClient().post(url, {"first_name": "C", "last_name": "D", "state": "WA"}).json()
    leads = Lead.objects.for_org(org)
    assert [u.pk for u in leads.get(pk=texan["id"]).assigned_to.all()] == [ruled.pk]
    assert [u.pk for u in leads.get(pk=other["id"]).assigned_to.all()] == [default.pk]


@pytest.mark.django_db
def test_bulk_call_is_cheap_and_spreads_evenly(org):
    users = members(org, 4)
    AssignmentRuleFactory(org=org, priority=1, match_source="Trade Show", users=users[:2])
    AssignmentRuleFactory(org=org, priority=2, users=users[2:])
    facts = [LeadFacts(source="Trade Show" if n % 2 else "Cold Call") for n in range(2000)]
    with CaptureQueriesContext(connection) as queries:
        result = assignees_for_new_leads(org=org, leads=facts)
    assert len(queries) <= 10, [q["sql"] for q in queries]
    assert Counter(users_[0] for users_ in result) == {user: 500 for user in users}
    counts = dict(AssignmentRule.objects.for_org(org).values_list("priority", "assigned_count"))
    assert counts == {1: 1000, 2: 1000}
    # The next call continues where this one stopped.
    nxt = assignees_for_new_leads(org=org, leads=[LeadFacts(source="Trade Show")] * 2)
    assert Counter(u[0] for u in nxt) == {users[0]: 1, users[1]: 1}


@pytest.mark.django_db
def test_admin_manages_rules_with_organization_checked_references(
    admin_client, org, other_admin_membership
):
    user = members(org, 1)[0]
    foreign_team = TeamFactory(org=other_admin_membership.org)
    created = admin_client.post(
        "/api/assignment-rules/",
        {"name": "Texas", "priority": 5, "match_state": "TX", "users": [str(user.pk)]},
    )
    assert created.status_code == 201, created.json()
    rule_id = created.json()["id"]
    assert admin_client.get(f"/api/assignment-rules/{rule_id}/").json()["users"] == [str(user.pk)]
    bad = admin_client.post(
        "/api/assignment-rules/",
        {"name": "x", "users": [str(other_admin_membership.user_id)]},
    )
    assert bad.status_code == 400
    assert (
        admin_client.post(
            "/api/assignment-rules/", {"name": "x", "team": str(foreign_team.pk)}
        ).status_code
        == 400
    )
    assert admin_client.post("/api/assignment-rules/", {"name": "nobody"}).status_code == 400
    patched = admin_client.patch(f"/api/assignment-rules/{rule_id}/", {"priority": 1})
    assert patched.json()["priority"] == 1
    assert admin_client.delete(f"/api/assignment-rules/{rule_id}/").status_code == 204


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_round_robin_is_fair_under_concurrent_creations(org):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    users = members(org, 4)
    AssignmentRuleFactory(org=org, users=users)
    barrier = threading.Barrier(20, timeout=30)
    errors = []

    def create(n):
        try:
            barrier.wait()
            lead_create(org=org, by=None, data={"first_name": "T", "last_name": str(n)})
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert not any(thread.is_alive() for thread in threads)
    per_user = Counter(
        Lead.assigned_to.through.objects.filter(lead__org=org).values_list("user_id", flat=True)
    )
    assert per_user == {user.pk: 5 for user in users}
    assert AssignmentRule.objects.for_org(org).get().assigned_count == 20


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

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Lead.objects.for_org(org).count() == 1
    assert sorted(code for code, _ in answers) == [200] * 7 + [201]
    assert len({lead_id for _, lead_id in answers}) == 1
