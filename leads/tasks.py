"""Celery tasks: thin doors into the services, taking ids only."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from leads import notifications
from outbox.services import outbox_consume


# A mail server or database that does not answer is retried with backoff (the row is only
# marked consumed once the e-mail went out).
@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OSError, OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=10,
)
def lead_assignment_notify(self, lead_id: str, org_id: str, user_ids: list[str]) -> int:
    # The task id is its outbox row's: a second delivery of the message sends nothing.
    return outbox_consume(
        message_id=self.request.id,
        handler=lambda: notifications.lead_assignment_notify(
            lead_id=lead_id, org_id=org_id, user_ids=user_ids
        ),
    )
