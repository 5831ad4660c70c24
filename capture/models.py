"""Website capture: API keys for public forms, idempotency records, spam kept for review.
(The assignment rules that decide who gets a new lead are the leads app's.)"""

from django.conf import settings
from django.db import models

from common.tenancy import OrgOwnedModel


class ApiKey(OrgOwnedModel):
    """A website-form key. Only a SHA-256 hash of the secret and a short display prefix are
    stored: the secret itself is shown once, when the key is created or rotated."""

    name = models.CharField(max_length=255)
    prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    allowed_origins = models.JSONField(default=list, blank=True)
    default_assigned_to = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+"
    )
    default_tags = models.JSONField(default=list, blank=True)
    # Where a plain HTML form post is sent after success (303). Must be on allowed_origins.
    thank_you_url = models.URLField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_on = models.DateTimeField(auto_now_add=True)
    rotated_on = models.DateTimeField(null=True, blank=True)
    revoked_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["org", "-created_on"], name="apikey_org_created_idx")]

    def __str__(self):
        return f"{self.name} ({self.prefix}...)"

    @property
    def is_active(self) -> bool:
        return self.revoked_on is None


class IdempotencyRecord(OrgOwnedModel):
    """The lead a given `Idempotency-Key` produced, so a retry answers with it."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=255)
    lead = models.ForeignKey("leads.Lead", null=True, on_delete=models.SET_NULL, related_name="+")
    # The id the first answer gave: the new lead's, or for a submission recorded on an
    # existing lead, a fresh id (the public key never learns the existing lead's).
    answer_id = models.UUIDField(null=True, blank=True)
    created_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "api_key", "idempotency_key"], name="idempotency_org_key_unique"
            )
        ]


class SpamReason(models.TextChoices):
    HONEYPOT = "honeypot", "Honeypot field filled"


class SpamSubmission(OrgOwnedModel):
    """A submission refused as spam: kept (not as a lead) so an admin can review it."""

    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(
        max_length=32, choices=SpamReason.choices, default=SpamReason.HONEYPOT
    )
    payload = models.JSONField(default=dict, blank=True)
    client_address = models.CharField(max_length=64, blank=True)
    origin = models.CharField(max_length=255, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    created_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["org", "-created_on"], name="spam_org_created_idx")]
