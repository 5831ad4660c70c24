"""Celery tasks for accounts of people: thin doors into the services, taking ids only."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from common import invitations, passwords
from outbox.services import outbox_consume

# A mail server or database that does not answer is retried with backoff; the outbox row is
# marked consumed only once the e-mail went out, so a second delivery sends nothing.
_RETRYING = {
    "bind": True,
    "acks_late": True,
    "autoretry_for": (OSError, OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 10,
}


@shared_task(**_RETRYING)
def invitation_email_send(self, invitation_id: str) -> bool:
    return outbox_consume(
        message_id=self.request.id,
        handler=lambda: invitations.invitation_email_send(invitation_id=invitation_id),
    )


@shared_task(**_RETRYING)
def password_reset_email_send(self, user_id: str) -> bool:
    return outbox_consume(
        message_id=self.request.id,
        handler=lambda: passwords.password_reset_email_send(user_id=user_id),
    )
