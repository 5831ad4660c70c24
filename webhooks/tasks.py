"""Celery tasks of the webhooks queue: thin doors into webhooks.dispatch."""

from celery import shared_task

from webhooks import dispatch


# Idempotent: a second message for the same subscription sends only what is still due.
@shared_task(acks_late=True)
def webhook_subscription_pump(subscription_id: str) -> int:
    return dispatch.webhook_subscription_pump(subscription_id=subscription_id)
