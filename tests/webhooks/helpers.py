import uuid

from django.db import transaction

from changelog.services import Actor, Change, EventData, events_record
from webhooks.models import WebhookSubscription
from webhooks.services import webhook_subscription_create

ALL = ["lead.created", "lead.updated", "lead.converted", "import.finished"]


def subscribe(org, url, events=ALL) -> WebhookSubscription:
    return webhook_subscription_create(org=org, url=url, events=events)


def record(org, type_="lead.created", action="created", lead_id=None, changes=None):
    """A committed change of the change log (its transaction ends here)."""
    with transaction.atomic():
        return events_record(
            org=org,
            change=Change(actor=Actor.system()),
            events=[EventData(type_, action, lead_id or uuid.uuid4(), changes or {})],
        )[0]
