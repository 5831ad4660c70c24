"""The assignment rules moved from the capture app to the leads app by renaming their
tables (capture/migrations/0004, leads/migrations/0004): rules written before the move,
with their members and team, are the leads app's rules after it, and back again."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("capture", "0003_apikey_active_origins_gin"),
    ("leads", "0003_org_search_index_statistics_creator_index"),
]
AFTER = [("capture", "0004_assignmentrule_to_leads"), ("leads", "0004_assignmentrule_from_capture")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_rules_and_their_members_survive_the_move_both_ways():
    old = _migrate(BEFORE)
    org = old.get_model("common", "Organization").objects.create(name="Moving")
    user_model = old.get_model("common", "User")
    users = [user_model.objects.create(email=f"m{n}@example.com") for n in range(3)]
    team = old.get_model("common", "Team").objects.create(org=org, name="Movers")
    old_rule = old.get_model("capture", "AssignmentRule").objects.create(
        org=org, name="Texas", priority=7, match_state="TX", team=team, assigned_count=41
    )
    old_rule.users.set(users)
    try:
        new = _migrate(AFTER)
        rule = new.get_model("leads", "AssignmentRule").objects.get(pk=old_rule.pk)
        assert (rule.name, rule.priority, rule.match_state, rule.assigned_count) == (
            "Texas",
            7,
            "TX",
            41,
        )
        assert rule.team_id == team.pk
        assert {user.pk for user in rule.users.all()} == {user.pk for user in users}
        tables = set(connection.introspection.table_names())
        assert {"leads_assignmentrule", "leads_assignmentrule_users"} <= tables
        assert not {"capture_assignmentrule", "capture_assignmentrule_users"} & tables

        back = _migrate(BEFORE)
        rule = back.get_model("capture", "AssignmentRule").objects.get(pk=old_rule.pk)
        assert rule.users.count() == 3 and rule.assigned_count == 41
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
