"""The assignment rules join the leads app, whose assignment code uses them.

The table already exists under this app's name: capture/migrations/0004 renamed
`capture_assignmentrule` (and its `_users` link table) to `leads_assignmentrule`, rows and
links kept. Here the model enters the leads app's migration state only; nothing is
created. The content type follows the model, so permissions granted on it are kept.
"""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


def _move_content_type(apps, schema_editor, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    if types.filter(app_label=target, model="assignmentrule").exists():
        return  # already there (created by a later post_migrate): nothing to move
    types.filter(app_label=source, model="assignmentrule").update(app_label=target)


def content_type_to_leads(apps, schema_editor):
    _move_content_type(apps, schema_editor, "capture", "leads")


def content_type_to_capture(apps, schema_editor):
    _move_content_type(apps, schema_editor, "leads", "capture")


class Migration(migrations.Migration):

    dependencies = [
        ('capture', '0004_assignmentrule_to_leads'),
        ('common', '0002_invitations'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('leads', '0003_org_search_index_statistics_creator_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AssignmentRule',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('name', models.CharField(max_length=255)),
                        ('priority', models.IntegerField(default=100)),
                        ('is_active', models.BooleanField(default=True)),
                        ('match_source', models.CharField(blank=True, max_length=255)),
                        ('match_country', models.CharField(blank=True, max_length=255)),
                        ('match_state', models.CharField(blank=True, max_length=255)),
                        ('match_tags', models.JSONField(blank=True, default=list)),
                        ('assigned_count', models.PositiveBigIntegerField(default=0, editable=False)),
                        ('created_on', models.DateTimeField(auto_now_add=True)),
                        ('org', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='common.organization')),
                        ('team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='common.team')),
                        ('users', models.ManyToManyField(blank=True, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'indexes': [models.Index(fields=['org', 'priority'], name='rule_org_priority_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_leads, content_type_to_capture),
    ]
