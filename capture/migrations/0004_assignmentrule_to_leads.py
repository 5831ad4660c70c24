"""The assignment rules move to the leads app (leads/migrations/0004), their rows and member
links with them: the tables are renamed, nothing is copied.

`capture_assignmentrule` becomes `leads_assignmentrule`, and AlterModelTable renames the
many-to-many table with it (`capture_assignmentrule_users` -> `leads_assignmentrule_users`,
its columns unchanged); the model then leaves capture's migration state only. Reversible.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("capture", "0003_apikey_active_origins_gin")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="assignmentrule", table="leads_assignmentrule"),
            ],
            state_operations=[migrations.DeleteModel(name="AssignmentRule")],
        ),
    ]
