from django.db import migrations, models

# The source filter finds its leads by exact source (leads.filters: the pattern is tested
# on the organization's distinct sources), and counts them by status from this index
# alone. It also serves the loose scan of the distinct sources, as (org, source) did.


def lift_statement_timeout(apps, schema_editor):
    # Building an index over a large table takes longer than a request may. LOCAL: for this
    # migration's transaction only.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET LOCAL statement_timeout = 0")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0008_link_indexes_by_user_and_tag"),
    ]

    operations = [
        migrations.RunPython(lift_statement_timeout, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                fields=["org", "source", "status"], name="lead_org_source_status_idx"
            ),
        ),
        migrations.RemoveIndex(
            model_name="lead",
            name="lead_org_source_idx",
        ),
        # Backwards, operations run last to first: this lifts the limit before the old
        # index is built again.
        migrations.RunPython(migrations.RunPython.noop, lift_statement_timeout),
    ]
