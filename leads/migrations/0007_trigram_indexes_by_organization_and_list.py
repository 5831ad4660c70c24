from django.db import migrations

# The substring filters' and `q`'s trigram indexes, PostgreSQL only (SQLite scans), one
# per list (open, closed) and each starting with the organization (btree_gin):
# - a count or page of one organization's open (or closed) leads reads only the index
#   entries of that organization and that list, so the heap is visited for its own
#   candidates only (at 1M leads a name's closed count visited every open match too, and
#   a 10k organization's search visited the other organizations' matches);
# - converted leads, which no list shows, are in none of them.
# The expressions are exactly those of leads.filters (icontains: UPPER(col::text) LIKE
# UPPER(...), the e-mail filter's included, see 0005; `q`: LeadSearchText), and the
# predicates exactly the list's (leads.choices.OPEN_STATUSES; status = 'closed'), or
# PostgreSQL would not use them. tests/leads/test_list_at_scale.py checks both.
OPEN = "status IN ('assigned', 'in process', 'recycled')"
CLOSED = "status = 'closed'"
SEARCH_EXPRESSION = (
    """UPPER("first_name" || ' ' || "last_name" || ' ' || "email_normalized" || ' ' """
    """|| "phone" || ' ' || "account_name" || ' ' || "title")"""
)
EXPRESSIONS = {
    "first_name": 'UPPER("first_name"::text)',
    "last_name": 'UPPER("last_name"::text)',
    "title": 'UPPER("title"::text)',
    "city": 'UPPER("city"::text)',
    "source": 'UPPER("source"::text)',
    "email": 'UPPER("email_normalized"::text)',
    "search": SEARCH_EXPRESSION,
}
LISTS = {"open": OPEN, "closed": CLOSED}
# What 0002 and 0003 created (one index per expression, all statuses).
REPLACED = {
    "lead_first_name_trgm": 'UPPER("first_name"::text)',
    "lead_last_name_trgm": 'UPPER("last_name"::text)',
    "lead_title_trgm": 'UPPER("title"::text)',
    "lead_city_trgm": 'UPPER("city"::text)',
    "lead_source_trgm": 'UPPER("source"::text)',
    "lead_email_trgm": 'UPPER("email_normalized"::text)',
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("SET LOCAL statement_timeout = 0")
    for name, expression in EXPRESSIONS.items():
        for list_name, predicate in LISTS.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS lead_{name}_{list_name}_trgm ON leads_lead "
                f"USING gin (org_id, ({expression}) gin_trgm_ops) WHERE {predicate}"
            )
    for name in [*REPLACED, "lead_org_search_trgm"]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("ANALYZE leads_lead")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("SET LOCAL statement_timeout = 0")
    for name, expression in REPLACED.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON leads_lead USING gin (({expression}) gin_trgm_ops)"
        )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS lead_org_search_trgm ON leads_lead "
        f"USING gin (org_id, ({SEARCH_EXPRESSION}) gin_trgm_ops)"
    )
    for name in EXPRESSIONS:
        for list_name in LISTS:
            schema_editor.execute(f"DROP INDEX IF EXISTS lead_{name}_{list_name}_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0006_lead_tally"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
