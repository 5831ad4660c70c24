"""The change log: one append-only row per change to a lead (or per organization-level
happening such as a finished import), written in the same transaction as the change."""

from django.db import models
from django.utils import timezone

from common.tenancy import OrgOwnedModel


class ActorType(models.TextChoices):
    USER = "user"
    API_KEY = "api_key"
    IMPORT = "import"
    SYSTEM = "system"


class Channel(models.TextChoices):
    API = "api"
    WEB_FORM = "web_form"
    IMPORT = "import"
    CONVERSION = "conversion"
    ASSIGNMENT_RULE = "assignment_rule"
    SYSTEM = "system"


class Event(OrgOwnedModel):
    """`type` is the integrator-facing name (`lead.created`, `import.finished`, ...);
    `action` the finer history verb (`commented`, `attachment_added`, ...). `lead_id` is
    not a foreign key: a deleted lead's history and its `lead.deleted` event stay."""

    # With the id, the keyset order of the history and the feed.
    occurred_at = models.DateTimeField(default=timezone.now, editable=False)
    type = models.CharField(max_length=64)
    action = models.CharField(max_length=64)
    lead_id = models.UUIDField(null=True, blank=True)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True, default="")
    actor_name = models.CharField(max_length=255, blank=True, default="")
    channel = models.CharField(max_length=32, choices=Channel.choices)
    # {field: [old, new]} in JSON-ready values.
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["org", "lead_id", "-occurred_at", "-id"], name="event_lead_history"
            ),
            models.Index(fields=["org", "occurred_at", "id"], name="event_org_feed"),
        ]
