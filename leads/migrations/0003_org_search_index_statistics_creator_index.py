from django.contrib.postgres.operations import BtreeGinExtension
from django.db import migrations, models

# `q` search at scale, PostgreSQL only (SQLite scans, slower):
# - the search trigram index starts with the organization (btree_gin), so a search reads
#   its own organization's matches only, whatever the others hold;
# - statistics on the searched expressions, so PostgreSQL knows how many leads a term
#   matches: without them it assumes a handful and sorts every match of a common term to
#   show ten, where walking the list's order finds ten in a few hundred rows.
# The expressions are exactly those of leads.filters (LeadSearchText, icontains).
SEARCH_EXPRESSION = (
    """UPPER("first_name" || ' ' || "last_name" || ' ' || "email_normalized" || ' ' """
    """|| "phone" || ' ' || "account_name" || ' ' || "title")"""
)
STATISTICS = {
    "lead_search_stats": SEARCH_EXPRESSION,
    "lead_first_name_stats": 'UPPER("first_name"::text)',
    "lead_last_name_stats": 'UPPER("last_name"::text)',
    "lead_city_stats": 'UPPER("city"::text)',
    "lead_source_stats": 'UPPER("source"::text)',
    "lead_title_stats": 'UPPER("title"::text)',
}


def lift_statement_timeout(apps, schema_editor):
    # Building an index over a large table takes longer than a request may. LOCAL: for this
    # migration's transaction only.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET LOCAL statement_timeout = 0")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS lead_org_search_trgm ON leads_lead "
        f"USING gin (org_id, ({SEARCH_EXPRESSION}) gin_trgm_ops)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS lead_search_trgm")
    for name, expression in STATISTICS.items():
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {name} ON ({expression}) FROM leads_lead"
        )
    # The statistics exist once the table is analysed (autovacuum would, later).
    schema_editor.execute("ANALYZE leads_lead")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in STATISTICS:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS lead_search_trgm ON leads_lead "
        f"USING gin (({SEARCH_EXPRESSION}) gin_trgm_ops)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS lead_org_search_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0002_list_at_scale_indexes"),
    ]

    operations = [
        migrations.RunPython(lift_statement_timeout, migrations.RunPython.noop),
        BtreeGinExtension(),
        migrations.RunPython(forwards, backwards),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                fields=["org", "created_by", "status"], name="lead_org_creator_idx"
            ),
        ),
    ]
