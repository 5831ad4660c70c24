"""Celery tasks: thin doors into the services, taking ids only."""

from celery import shared_task

from leads import notifications


@shared_task(acks_late=True)
def lead_assignment_notify(lead_id: str, org_id: str, user_ids: list[str]) -> int:
    return notifications.lead_assignment_notify(lead_id=lead_id, org_id=org_id, user_ids=user_ids)
