"""Subscriptions (written by an organization's admins) and the deliveries the change log
creates for them. Sending is in webhooks/dispatch.py."""

from __future__ import annotations

import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from outbox.services import outbox_enqueue
from webhooks import signing
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from webhooks.targets import target_check

SECRET_OVERLAP = timedelta(hours=24)
PUMP_TASK = "webhooks.tasks.webhook_subscription_pump"


def webhook_pump_request(*, subscription_id) -> None:
    """Ask a webhook worker (after the commit) to send what is due for the subscription."""
    outbox_enqueue(task=PUMP_TASK, args=[str(subscription_id)])


def webhook_subscription_create(*, org, url: str, events: list[str], is_active: bool = True):
    target_check(url)
    return WebhookSubscription.objects.create(
        org=org,
        url=url,
        events=list(events),
        is_active=is_active,
        secret=signing.secret_generate(),
    )


@transaction.atomic
def webhook_subscription_update(*, subscription: WebhookSubscription, data: dict):
    if "url" in data:
        target_check(data["url"])
    reactivated = data.get("is_active") is True and not subscription.is_active
    for field in ("url", "events", "is_active"):
        if field in data:
            setattr(subscription, field, data[field])
    if reactivated:
        # A fresh start: what waited while it was off goes out now.
        subscription.disabled_reason = ""
        subscription.consecutive_failures = 0
        subscription.failing_since = None
        subscription.retry_at = None
        webhook_pump_request(subscription_id=subscription.pk)
    elif data.get("is_active") is False:
        subscription.disabled_reason = ""
    subscription.save()
    return subscription


def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    """Delete the subscription with its delivery log (nothing more is sent)."""
    subscription.delete()


def webhook_subscription_rotate_secret(*, subscription: WebhookSubscription):
    """A new secret; the current one keeps signing beside it for 24 hours."""
    now = timezone.now()
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = now + SECRET_OVERLAP
    subscription.secret = signing.secret_generate()
    subscription.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return subscription


@transaction.atomic
def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the delivery's event again (same Webhook-Id), whatever its status."""
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    webhook_pump_request(subscription_id=delivery.subscription_id)
    return delivery


def webhook_deliveries_create(events) -> list[WebhookDelivery]:
    """Change-log listener: in the change's transaction, one delivery per event and active
    subscription that wants its type, and one request to send per subscription."""
    if not events:
        return []
    org_id = events[0].org_id
    subscriptions = list(WebhookSubscription.objects.for_org(org_id).filter(is_active=True))
    if not subscriptions:
        return []
    # Orders one lead's deliveries: later transactions get larger numbers (milliseconds,
    # then the event's place in its batch).
    base = time.time_ns() // 1_000_000 * 1_000_000
    now = timezone.now()
    deliveries = []
    wanted = set()
    for subscription in subscriptions:
        for index, event in enumerate(events):
            if event.type in subscription.events:
                wanted.add(subscription.pk)
                deliveries.append(
                    WebhookDelivery(
                        org_id=org_id,
                        subscription=subscription,
                        event=event,
                        event_type=event.type,
                        lead_id=event.lead_id,
                        sequence=base + index,
                        next_attempt_at=now,
                        created_on=now,
                    )
                )
    WebhookDelivery.objects.bulk_create(deliveries)
    for subscription_id in wanted:
        webhook_pump_request(subscription_id=subscription_id)
    return deliveries
