"""Writing side effects into the outbox, publishing them, and consuming them once.

`outbox_enqueue` records a Celery task in the caller's transaction and, once that commits,
publishes it straight away (the fast path: no added latency). If the broker cannot take it,
or the process dies between the commit and the publish, the row stays pending and the relay
(`manage.py outbox_relay`) publishes it with capped exponential backoff. A request never
fails because the broker is down: its effect is already durable in the database.

Delivery is at least once, so consumers are idempotent: the Celery task id is the outbox
row's id, and `outbox_consume` runs a handler at most once per row.

Without a broker (the embedded default) the task runs in-process right after the commit,
as before: the answer already carries its result.
"""

from __future__ import annotations

import functools
import importlib
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from outbox.models import OutboxMessage

logger = logging.getLogger(__name__)


def outbox_enqueue(
    *, task: str, args: list, queue: str = "", redeliver: bool = False
) -> OutboxMessage:
    """Record `task(*args)` in the current transaction; publish it after the commit.

    `redeliver`: the task marks its row consumed (outbox_consume); until it does, the relay
    publishes it again every OUTBOX_REDELIVER_SECONDS."""
    message = OutboxMessage.objects.create(task=task, args=args, queue=queue, redeliver=redeliver)
    transaction.on_commit(functools.partial(_publish_after_commit, message))
    return message


def _publish_after_commit(message: OutboxMessage) -> None:
    # The row was written by this very transaction: no need to read it back.
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # In-process: the task runs now and its failure propagates, as a direct call would.
        _mark_published(message)
        _send(message)
        return
    outbox_publish(message=message)


def _send(message: OutboxMessage) -> None:
    from crm.celery import app

    # Autodiscovery is lazy in a web process: load the task's module by its name.
    importlib.import_module(message.task.rpartition(".")[0])
    options = {"task_id": str(message.pk)}
    if message.queue:
        options["queue"] = message.queue
    task = app.tasks[message.task]
    if app.conf.task_always_eager:
        task.apply_async(args=message.args, **options)
        return
    # One connection attempt and no publish retries: a down broker must not hold the request
    # or the relay (kombu's default retries for ~6 s); the row's own backoff retries it.
    transport_options = {**app.conf.broker_transport_options, "max_retries": 1}
    with app.connection_for_write(transport_options=transport_options) as connection:
        task.apply_async(args=message.args, connection=connection, retry=False, **options)


def _mark_published(message: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(
        published_on=timezone.now(), attempts=F("attempts") + 1
    )


def outbox_publish(*, message: OutboxMessage) -> bool:
    """Publish one message; on failure, schedule its next attempt. Never raises."""
    try:
        _send(message)
    except Exception as error:  # noqa: BLE001 - any broker failure: the relay retries
        attempts = message.attempts + 1
        delay = min(settings.OUTBOX_RETRY_MAX_SECONDS, 2 ** (attempts - 1))
        logger.warning(
            "Broker unavailable (%s: %s); %s %s stays in the outbox, next try in %ss.",
            type(error).__name__,
            str(error)[:200],
            message.task,
            message.pk,
            delay,
        )
        try:
            OutboxMessage.objects.filter(pk=message.pk).update(
                attempts=attempts,
                last_error=f"{type(error).__name__}: {error}"[:1000],
                available_at=timezone.now() + timedelta(seconds=delay),
            )
        except DatabaseError:
            logger.warning("Could not record the failed publish of %s.", message.pk)
        return False
    try:
        _mark_published(message)
    except DatabaseError:
        # Published but not marked: the relay publishes it again; consumers are idempotent.
        logger.warning("Published %s but could not mark it; it may be delivered twice.", message.pk)
    return True


def outbox_relay_once(*, batch: int = 100) -> int:
    """Publish the pending messages that are due, and again the consumable ones nobody
    consumed in time; return how many were published.

    Rows younger than OUTBOX_RELAY_GRACE_SECONDS are left to the fast path of the process
    that wrote them. Several relays may run: rows are locked and skipped (PostgreSQL)."""
    now = timezone.now()
    grace = now - timedelta(seconds=settings.OUTBOX_RELAY_GRACE_SECONDS)
    lost_before = now - timedelta(seconds=settings.OUTBOX_REDELIVER_SECONDS)
    pending = OutboxMessage.objects.filter(
        published_on__isnull=True, available_at__lte=now, created_on__lte=grace
    ).order_by("available_at")
    unconsumed = OutboxMessage.objects.filter(
        redeliver=True, consumed_on__isnull=True, published_on__lt=lost_before
    ).order_by("published_on")
    published = 0
    for queryset in (pending, unconsumed):
        with transaction.atomic():
            if connection.features.has_select_for_update_skip_locked:
                queryset = queryset.select_for_update(skip_locked=True)
            for message in queryset[:batch]:
                if not outbox_publish(message=message):
                    return published  # the broker is down: the others wait their backoff
                published += 1
    return published


def outbox_consume(*, message_id: str | None, handler: Callable[[], object]):
    """Run `handler` at most once for the outbox row `message_id` (a task's own id).

    The row is locked while the handler runs, so a second delivery waits and then finds it
    consumed. A task called without an outbox row (message_id unknown) simply runs."""
    try:
        key = uuid.UUID(str(message_id)) if message_id else None
    except ValueError:
        key = None
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=key).first() if key else None
        if message is not None and message.consumed_on is not None:
            logger.info("Outbox message %s was already consumed; skipped.", message_id)
            return None
        result = handler()
        if message is not None:
            OutboxMessage.objects.filter(pk=message.pk).update(consumed_on=timezone.now())
    return result


def outbox_purge() -> int:
    """Delete published messages older than OUTBOX_RETENTION_DAYS."""
    cutoff = timezone.now() - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    deleted, _ = OutboxMessage.objects.filter(
        published_on__isnull=False, created_on__lt=cutoff
    ).delete()
    return deleted
