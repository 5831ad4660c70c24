"""Webhook subscriptions of an organization and the deliveries of its events to them."""

from django.db import models
from django.utils import timezone

from common.tenancy import OrgOwnedModel

EVENT_TYPES = [
    "lead.created",
    "lead.updated",
    "lead.converted",
    "lead.deleted",
    "lead.assigned",
    "import.finished",
]


class WebhookSubscription(OrgOwnedModel):
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    # Kept in clear: HMAC signing needs the secret itself. Shown once, never logged.
    secret = models.CharField(max_length=100)
    # After a rotation the old secret signs beside the new one until it expires.
    previous_secret = models.CharField(max_length=100, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_on = models.DateTimeField(default=timezone.now, editable=False)
    # Why a subscription was turned off by the service (410, failing for days); empty
    # when the admin turned it off or it is active.
    disabled_reason = models.CharField(max_length=500, blank=True, default="")
    # Circuit: after a failed send, nothing goes to this receiver before `retry_at`.
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    # One sender at a time per subscription (order per lead, one worker per dead receiver).
    lease_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # When the sweep last asked for a sender (so it does not flood the queue).
    pump_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["org", "-created_on"], name="webhook_sub_org_created")]

    def __str__(self):
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookDelivery(OrgOwnedModel):
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey("changelog.Event", on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=64)
    # Copied from the event: deliveries of one lead go out in `sequence` order.
    lead_id = models.UUIDField(null=True, blank=True)
    sequence = models.BigIntegerField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    created_on = models.DateTimeField(default=timezone.now, editable=False)
    delivered_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The delivery log, newest first.
            models.Index(
                fields=["org", "subscription", "-created_on"], name="webhook_delivery_log"
            ),
            # The sender's next delivery and the per-lead order check.
            models.Index(
                fields=["org", "subscription", "lead_id", "sequence"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_pending",
            ),
            # The relay's sweep for due deliveries (a small partial index).
            models.Index(
                fields=["org", "next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due",
            ),
        ]

    def __str__(self):
        return f"{self.event_type} {self.event_id} ({self.status})"
