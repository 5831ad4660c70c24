"""Assignment rules: matching, round-robin, the bulk call, the admin API and its
refusals (leads/assignment.py, leads/api/assignment_rules.py)."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from common import errors
from common.models import Membership
from leads.assignment import (
    LeadFacts,
    assignees_for_new_lead,
    assignees_for_new_leads,
    assignment_rule_save,
)
from leads.models import AssignmentRule, Lead
from leads.services import lead_create
from tests.concurrency import run_in_threads
from tests.factories import MembershipFactory, TeamFactory, member_users
from tests.leads.factories import AssignmentRuleFactory


@pytest.mark.django_db
def test_rules_match_by_priority_and_fall_back_to_key_defaults(org):
    emea, us_west, tagged, fallback = (member_users(org, 1)[0] for _ in range(4))
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
def test_round_robin_over_a_team_skips_inactive_member_users(org):
    team = TeamFactory(org=org)
    active = member_users(org, 3)
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
    backup = member_users(org, 1)[0]
    AssignmentRuleFactory(org=org, priority=1, users=[gone.user])
    AssignmentRuleFactory(org=org, priority=2, users=[backup])
    assert assignees_for_new_lead(org=org, lead=LeadFacts()) == [backup]


@pytest.mark.django_db
def test_inactive_fallback_users_are_dropped(org):
    keep, gone = member_users(org, 2)
    gone.is_active = False
    gone.save()
    assert assignees_for_new_lead(org=org, lead=LeadFacts(), fallback=[keep, gone]) == [keep]


@pytest.mark.django_db
def test_bulk_call_is_cheap_and_spreads_evenly(org):
    users = member_users(org, 4)
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
    user = member_users(org, 1)[0]
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
    patched = admin_client.patch(f"/api/assignment-rules/{rule_id}/", {"priority": 1})
    assert patched.json()["priority"] == 1
    assert admin_client.delete(f"/api/assignment-rules/{rule_id}/").status_code == 204


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_round_robin_is_fair_under_concurrent_creations(org):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    users = member_users(org, 4)
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

    run_in_threads(create, [(n,) for n in range(20)])
    assert not errors
    per_user = Counter(
        Lead.assigned_to.through.objects.filter(lead__org=org).values_list("user_id", flat=True)
    )
    assert per_user == {user.pk: 5 for user in users}
    assert AssignmentRule.objects.for_org(org).get().assigned_count == 20


@pytest.mark.django_db
def test_a_rule_without_team_or_users_is_refused_on_users(admin_client, org):
    nobody = {
        "code": "validation_error",
        "detail": "Invalid input.",
        "fields": {"users": ["Give a team or at least one user to distribute leads to."]},
    }
    created = admin_client.post("/api/assignment-rules/", {"name": "nobody"}, format="json")
    assert (created.status_code, created.json()) == (400, nobody)
    rule = AssignmentRuleFactory(org=org, users=member_users(org, 1))
    emptied = admin_client.patch(f"/api/assignment-rules/{rule.pk}/", {"users": []}, format="json")
    assert (emptied.status_code, emptied.json()) == (400, nobody)
    # A team alone is enough, and a rule keeps the members it has when they are not sent.
    team = TeamFactory(org=org)
    assert (
        admin_client.patch(
            f"/api/assignment-rules/{rule.pk}/", {"users": [], "team": str(team.pk)}, format="json"
        ).status_code
        == 200
    )
    assert admin_client.patch(
        f"/api/assignment-rules/{rule.pk}/", {"name": "Renamed"}, format="json"
    ).json()["team"] == str(team.pk)
    # The rule is the service's: a task or a command gets the same refusal.
    with pytest.raises(errors.InvalidInput) as refused:
        assignment_rule_save(org=org, data={"name": "nobody"})
    assert refused.value.fields == nobody["fields"]
    assert list(AssignmentRule.objects.for_org(org)) == [rule]
