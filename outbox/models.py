"""A side effect (a Celery task) recorded in the same transaction as the change it follows.

The row is the durable promise: once the transaction commits, the task will be published
(right after the commit, or by the relay if the broker was unreachable or the process died
first), and a consumer that runs it twice does the work once (`consumed_on`).
"""

import uuid

from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    # Empty: the task's route (CELERY_TASK_ROUTES) decides.
    queue = models.CharField(max_length=64, blank=True)
    created_on = models.DateTimeField(default=timezone.now)
    # The relay leaves a message alone until then (backoff after a failed publish).
    available_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    published_on = models.DateTimeField(null=True, blank=True)
    # Set by consumers that mark the row consumed (outbox_consume). Such a message still
    # unconsumed OUTBOX_REDELIVER_SECONDS after its publish is published again: the broker
    # may have lost it (restarted without its data).
    redeliver = models.BooleanField(default=False)
    consumed_on = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["available_at"],
                condition=models.Q(published_on__isnull=True),
                name="outbox_pending_idx",
            ),
            models.Index(fields=["created_on"], name="outbox_created_idx"),
        ]

    def __str__(self):
        return f"{self.task} ({'published' if self.published_on else 'pending'})"
