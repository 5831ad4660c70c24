from django.db import migrations, models

# The city, title and name filters find their leads by exact value (leads.filters: the
# pattern is tested on the organization's distinct values), and count and page them from
# these indexes alone: each holds the status and the creation time. They also serve the
# loose scans of the distinct values ((org, city) did for the cities).
COLUMNS = ("city", "title", "first_name", "last_name")


def lift_statement_timeout(apps, schema_editor):
    # Building an index over a large table takes longer than a request may. LOCAL: for this
    # migration's transaction only.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET LOCAL statement_timeout = 0")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0010_tally_shard_locks"),
    ]

    operations = [
        migrations.RunPython(lift_statement_timeout, migrations.RunPython.noop),
        *(
            migrations.AddIndex(
                model_name="lead",
                index=models.Index(
                    fields=["org", column, "status", "created_on", "id"],
                    name=f"lead_org_{column}_status_idx",
                ),
            )
            for column in COLUMNS
        ),
        migrations.RemoveIndex(model_name="lead", name="lead_org_city_idx"),
        # Backwards, operations run last to first: this lifts the limit before the old
        # index is built again.
        migrations.RunPython(migrations.RunPython.noop, lift_statement_timeout),
    ]
