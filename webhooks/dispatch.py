"""Sending deliveries: one sender ("pump") at a time per subscription, so that one lead's
events arrive in order and a dead receiver holds at most one worker process.

A failed send opens the subscription's circuit: nothing more goes to that receiver until its
`retry_at` (exponential backoff with jitter, up to WEBHOOKS_RETRY_MAX_SECONDS), when the
oldest due delivery is tried again. A receiver that is down therefore costs one attempt per
backoff step, however large its backlog, and other receivers are never behind it.
A delivery failing for longer than WEBHOOKS_RETRY_WINDOW_HOURS is given up (`failed`); a
receiver failing every delivery for WEBHOOKS_PAUSE_AFTER_HOURS is paused, with the reason on
the subscription; a 410 turns the subscription off at once.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from changelog.models import Event
from webhooks import signing
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from webhooks.services import webhook_pump_request
from webhooks.targets import TargetRefused, target_post, target_resolve

logger = logging.getLogger(__name__)

# A sweep does not ask again for a sender it asked for this recently (the message may be
# waiting behind others in the queue).
PUMP_REQUEST_SECONDS = 60
# Deliveries read at a time; the lease is refreshed when older than this before a send
# (a send lasts at most WEBHOOKS_TIMEOUT_SECONDS, the lease that plus 20 s).
BATCH = 50
LEASE_REFRESH_SECONDS = 5


def event_payload(event: Event) -> dict:
    return {
        "id": str(event.pk),
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "organization_id": str(event.org_id),
        "data": {
            "lead_id": str(event.lead_id) if event.lead_id else None,
            "action": event.action,
            "changes": event.changes,
            "actor": {"type": event.actor_type, "id": event.actor_id, "name": event.actor_name},
            "channel": event.channel,
            "request_id": event.request_id,
        },
    }


def _subscriptions():
    return WebhookSubscription.objects.unscoped()


def _lease_seconds() -> float:
    return settings.WEBHOOKS_TIMEOUT_SECONDS + 20


def _claim(subscription_id, token) -> bool:
    now = timezone.now()
    return bool(
        _subscriptions()
        .filter(pk=subscription_id)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            lease_token=token,
            lease_until=now + timedelta(seconds=_lease_seconds()),
            pump_requested_at=None,
        )
    )


def _release(subscription_id, token) -> None:
    _subscriptions().filter(pk=subscription_id, lease_token=token).update(
        lease_token=None, lease_until=None
    )


def _due(subscription: WebhookSubscription, limit: int, now=None) -> list[WebhookDelivery]:
    """The next due deliveries in order, at most one per lead: a lead's later delivery
    waits while an earlier one of the same lead is pending."""
    pending = WebhookDelivery.objects.for_org(subscription.org_id).filter(
        subscription_id=subscription.pk, status=DeliveryStatus.PENDING
    )
    earlier = pending.filter(lead_id=OuterRef("lead_id"), sequence__lt=OuterRef("sequence"))
    return list(
        pending.filter(next_attempt_at__lte=now or timezone.now())
        .exclude(Q(lead_id__isnull=False) & Exists(earlier))
        .select_related("event")
        .order_by("sequence")[:limit]
    )


def webhook_subscription_pump(*, subscription_id) -> int:
    """Send the subscription's due deliveries for up to WEBHOOKS_PUMP_SECONDS; return how
    many were attempted. Does nothing while another sender holds the subscription."""
    attempted = 0
    deadline = time.monotonic() + settings.WEBHOOKS_PUMP_SECONDS
    while True:
        token = uuid.uuid4()
        if not _claim(subscription_id, token):
            return attempted
        more = failed = False
        subscription = successes = None
        try:
            extended = time.monotonic()
            while not (more or failed):
                subscription = _subscriptions().filter(pk=subscription_id).first()
                if subscription is None or not _sendable(subscription):
                    return attempted
                read_at = timezone.now()
                successes = _Successes(subscription, read_at)
                batch = _due(subscription, BATCH, read_at)
                if not batch:
                    break
                for delivery in batch:
                    now = time.monotonic()
                    if now >= deadline:
                        more = True  # its turn is over: the worker goes to others
                        break
                    if now - extended > LEASE_REFRESH_SECONDS:
                        _subscriptions().filter(pk=subscription_id, lease_token=token).update(
                            lease_until=timezone.now() + timedelta(seconds=_lease_seconds())
                        )
                        extended = now
                    attempted += 1
                    if not _attempt(subscription, delivery, successes):
                        failed = True  # the circuit is open: the sweep retries later
                        break
                successes.flush()
                if len(batch) < BATCH:
                    break  # all that was due (the re-check below catches newcomers)
        finally:
            if successes is not None:
                successes.flush()
            _release(subscription_id, token)
        if failed:
            return attempted
        if more:
            with transaction.atomic():
                webhook_pump_request(subscription_id=subscription_id)
            return attempted
        # A delivery written while this sender was finishing found the lease taken: look
        # once more now that it is released.
        if not _due(subscription, 1):
            return attempted


def _sendable(subscription: WebhookSubscription) -> bool:
    return subscription.is_active and (
        subscription.retry_at is None or subscription.retry_at <= timezone.now()
    )


def _secrets(subscription: WebhookSubscription) -> list[str]:
    found = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires and expires > timezone.now():
        found.append(subscription.previous_secret)
    return found


def _attempt(
    subscription: WebhookSubscription, delivery: WebhookDelivery, successes: _Successes
) -> bool:
    """One send; record its outcome. True when the receiver took it."""
    body = json.dumps(event_payload(delivery.event), separators=(",", ":")).encode()
    message_id = str(delivery.event_id)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "crm-webhooks/1",
        "Webhook-Id": message_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signing.signature_header(
            secrets_=_secrets(subscription), message_id=message_id, timestamp=timestamp, body=body
        ),
    }
    status_code = None
    try:
        # Resolved and checked at every send: the address may have changed since.
        target = target_resolve(subscription.url)
        answer = target_post(
            target=target, body=body, headers=headers, timeout=settings.WEBHOOKS_TIMEOUT_SECONDS
        )
        status_code = answer.status
        error = "" if 200 <= answer.status < 300 else f"HTTP {answer.status}"
    except TargetRefused as refused:
        error = str(refused)
    except Exception as failure:  # noqa: BLE001 - any network failure is a failed attempt
        error = f"{type(failure).__name__}: {failure}"
    logger.info(
        "Webhook %s of event %s to subscription %s: %s",
        delivery.pk,
        message_id,
        subscription.pk,
        error or f"HTTP {status_code}",
    )
    if not error:
        successes.add(delivery, status_code)
        return True
    successes.flush()
    if status_code == 410:
        _gone(subscription, delivery)
    else:
        _failed(subscription, delivery, status_code, error)
    return False


def _deliveries(subscription):
    return WebhookDelivery.objects.for_org(subscription.org_id)


class _Successes:
    """Successes are written in groups: one UPDATE (and one commit) per batch instead of one
    per delivery. A crash before the write sends them again, which at least once allows.
    Only rows still as they were read are marked (`read_at`): one redelivered meanwhile
    stays pending."""

    def __init__(self, subscription: WebhookSubscription, read_at):
        self.subscription = subscription
        self.read_at = read_at
        self.by_code: dict[int, list] = defaultdict(list)

    def add(self, delivery: WebhookDelivery, status_code: int) -> None:
        self.by_code[status_code].append(delivery.pk)
        subscription = self.subscription
        if subscription.consecutive_failures or subscription.retry_at:
            # The receiver is back: its circuit closes.
            _subscriptions().filter(pk=subscription.pk).update(
                consecutive_failures=0, failing_since=None, retry_at=None
            )
            subscription.consecutive_failures, subscription.retry_at = 0, None

    def flush(self) -> None:
        now = timezone.now()
        for status_code, ids in self.by_code.items():
            _deliveries(self.subscription).filter(
                pk__in=ids, status=DeliveryStatus.PENDING, next_attempt_at__lte=self.read_at
            ).update(
                status=DeliveryStatus.SUCCEEDED,
                attempts=F("attempts") + 1,
                last_status_code=status_code,
                last_error="",
                next_attempt_at=None,
                delivered_on=now,
            )
        self.by_code.clear()


def _gone(subscription, delivery) -> None:
    with transaction.atomic():
        _deliveries(subscription).filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED,
            attempts=F("attempts") + 1,
            last_status_code=410,
            last_error="HTTP 410",
            next_attempt_at=None,
        )
        _subscriptions().filter(pk=subscription.pk).update(
            is_active=False,
            disabled_reason=(
                f"Turned off on {timezone.now():%Y-%m-%d %H:%M} UTC: "
                "the receiver answered 410 Gone."
            ),
        )
    logger.warning(
        "Webhook subscription %s turned off: its receiver answered 410.", subscription.pk
    )


def retry_delay(failures: int) -> float:
    """Exponential backoff with jitter: between half and all of base * 2^(failures-1)."""
    ceiling = min(
        settings.WEBHOOKS_RETRY_MAX_SECONDS,
        settings.WEBHOOKS_RETRY_BASE_SECONDS * 2 ** min(failures - 1, 30),
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - not for secrets


def _failed(subscription, delivery, status_code, error) -> None:
    now = timezone.now()
    failures = subscription.consecutive_failures + 1
    failing_since = subscription.failing_since or now
    retry_at = now + timedelta(seconds=retry_delay(failures))
    window = timedelta(hours=settings.WEBHOOKS_RETRY_WINDOW_HOURS)
    pause_after = timedelta(hours=settings.WEBHOOKS_PAUSE_AFTER_HOURS)
    with transaction.atomic():
        _deliveries(subscription).filter(pk=delivery.pk).update(
            attempts=F("attempts") + 1,
            last_status_code=status_code,
            last_error=error[:500],
            next_attempt_at=retry_at,
        )
        # Deliveries that have waited out the retry window while this receiver failed are
        # given up.
        _deliveries(subscription).filter(
            subscription_id=subscription.pk,
            status=DeliveryStatus.PENDING,
            created_on__lte=now - window,
        ).update(status=DeliveryStatus.FAILED, next_attempt_at=None)
        changes = {
            "consecutive_failures": failures,
            "failing_since": failing_since,
            "retry_at": retry_at,
        }
        if now - failing_since >= pause_after:
            changes["is_active"] = False
            changes["disabled_reason"] = (
                f"Paused on {now:%Y-%m-%d %H:%M} UTC: every delivery failed since "
                f"{failing_since:%Y-%m-%d %H:%M} UTC (last: {error[:200]})."
            )
            logger.warning("Webhook subscription %s paused: failing for days.", subscription.pk)
        _subscriptions().filter(pk=subscription.pk).update(**changes)


def webhooks_sweep() -> int:
    """Ask for a sender for each active subscription with a due delivery and no sender
    (retries whose time came, messages the broker lost, senders that died). In the relay."""
    now = timezone.now()
    due = WebhookDelivery.objects.unscoped().filter(
        status=DeliveryStatus.PENDING,
        next_attempt_at__lte=now,
        subscription_id=OuterRef("pk"),
    )
    candidates = (
        _subscriptions()
        .filter(is_active=True)
        .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(
            Q(pump_requested_at__isnull=True)
            | Q(pump_requested_at__lt=now - timedelta(seconds=PUMP_REQUEST_SECONDS))
        )
        .filter(Exists(due))
        .values_list("pk", flat=True)[:500]
    )
    requested = 0
    for subscription_id in list(candidates):
        with transaction.atomic():
            _subscriptions().filter(pk=subscription_id).update(pump_requested_at=now)
            webhook_pump_request(subscription_id=subscription_id)
        requested += 1
    return requested
