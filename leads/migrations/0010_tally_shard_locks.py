from django.db import migrations

# The tally triggers (0006) lock tally rows in key order within one statement, but a
# transaction that writes several statements (a lead edit: its tags, then its status)
# takes its rows over several statements. Two such transactions of one organization whose
# connections share a shard (mod(pg_backend_pid(), 8)) could then each hold a row the other
# needs: a deadlock, which PostgreSQL ends by failing one of the two writes.
#
# Before the tally trigger of a statement runs, this one takes a transaction-level
# advisory lock per (organization, shard) of the leads concerned, in organization order.
# A second writer of the same organization and shard waits there, holding no tally row,
# until the first commits. Triggers of one event run in the order of their names:
# `..._tally_0lock_...` comes before `..._tally_insert`, `_update` and `_delete`.
# Writers still take their leads' rows before any tally (see leads.imports.write), so
# waiting here never closes a circle. SQLite has one writer at a time: nothing to do.

LOCK = (
    "pg_advisory_xact_lock(hashtext('leads_tally ' || org.org_id::text), mod(pg_backend_pid(), 8))"
)


def _lock_function(name: str, orgs_of, updated_orgs: str) -> str:
    """A trigger function locking the (organization, shard) of every lead a statement
    changed: `orgs_of(rows)` selects the organizations of a transition table,
    `updated_orgs` those of an update that may change a tally."""
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE org record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        FOR org IN {orgs_of("new_rows")} ORDER BY 1 LOOP PERFORM {LOCK}; END LOOP;
    ELSIF TG_OP = 'DELETE' THEN
        FOR org IN {orgs_of("old_rows")} ORDER BY 1 LOOP PERFORM {LOCK}; END LOOP;
    ELSE
        FOR org IN {updated_orgs} ORDER BY 1 LOOP
            PERFORM {LOCK};
        END LOOP;
    END IF;
    RETURN NULL;
END $$;
"""


def _lead_orgs(rows: str) -> str:
    return f"SELECT DISTINCT org_id FROM {rows}"  # noqa: S608 - a transition table's name


def _link_orgs(rows: str) -> str:
    return f"SELECT DISTINCT l.org_id FROM leads_lead l WHERE l.id IN (SELECT lead_id FROM {rows})"  # noqa: S608 - a transition table's name


# A lead's update changes a tally only when its status, creator or organization changes
# (the condition of 0006's trigger): an edit of its other fields takes no lock.
MOVED = """
    SELECT o.org_id, n.org_id AS new_org_id FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE (o.status, o.created_by_id, o.org_id) IS DISTINCT FROM
        (n.status, n.created_by_id, n.org_id)
"""
LEAD_UPDATE_ORGS = f"SELECT org_id FROM ({MOVED}) m UNION SELECT new_org_id FROM ({MOVED}) m"  # noqa: S608 - constant SQL
LINK_UPDATE_ORGS = f"{_link_orgs('old_rows')} UNION {_link_orgs('new_rows')}"

FUNCTIONS = {
    "leads_lead": ("leads_tally_lock_leads", _lead_orgs, LEAD_UPDATE_ORGS),
    "leads_lead_assigned_to": ("leads_tally_lock_assignments", _link_orgs, LINK_UPDATE_ORGS),
    "leads_lead_tags": ("leads_tally_lock_tags", _link_orgs, LINK_UPDATE_ORGS),
}
EVENTS = {
    "insert": "AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows",
    "update": "AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, (function, orgs_of, updated_orgs) in FUNCTIONS.items():
        schema_editor.execute(_lock_function(function, orgs_of, updated_orgs))
        for event, clause in EVENTS.items():
            schema_editor.execute(
                f"CREATE TRIGGER {table}_tally_0lock_{event} {clause.format(table=table)} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, (function, *_orgs) in FUNCTIONS.items():
        for event in EVENTS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_tally_0lock_{event} ON {table}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0009_source_status_index"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
