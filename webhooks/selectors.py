"""Reads of subscriptions and their delivery log."""

from common.errors import NotFound
from webhooks.models import WebhookDelivery, WebhookSubscription


def webhook_subscription_get(*, org, subscription_id) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.for_org(org).filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound()
    return subscription


def webhook_delivery_list(*, org, subscription_id):
    """The subscription's deliveries, newest first (404 for a foreign subscription)."""
    subscription = webhook_subscription_get(org=org, subscription_id=subscription_id)
    return (
        WebhookDelivery.objects.for_org(org)
        .filter(subscription=subscription)
        .select_related("subscription")
        .order_by("-created_on", "-sequence")
    )
