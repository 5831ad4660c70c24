"""A GIN index over the allow-lists of active keys, so that a preflight without a key
(`allowed_origins @> '["https://..."]'`) is an index lookup, not a scan of every key.

PostgreSQL only (SQLite has no GIN indexes or JSON containment); the index is not declared
on the model, whose Meta must stay portable.
"""

from django.db import migrations

INDEX = "capture_apikey_active_origins_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON capture_apikey "
            "USING gin (allowed_origins jsonb_path_ops) WHERE revoked_on IS NULL"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("capture", "0002_idempotency_answer_id")]

    operations = [migrations.RunPython(create_index, drop_index)]
