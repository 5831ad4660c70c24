"""Warm shutdown of a worker (SIGTERM): its running imports stop at their next chunk
boundary and go back to the queue, instead of holding the shutdown for the whole file.

The signal handler runs in the worker's main process: with the solo pool that is the
process running the task (it reads celery's own `should_stop` flag); with prefork the task
runs in a child, which reads the job's `stop_requested` flag written here. The write goes
through a thread with its own database connection: the main thread may be inside a
transaction holding the job's row."""

import logging
import threading

from celery.signals import worker_shutting_down

logger = logging.getLogger(__name__)


@worker_shutting_down.connect
def _request_stop(sender=None, **kwargs) -> None:
    threading.Thread(target=_flag_jobs, args=(str(sender or ""),), daemon=True).start()


def _flag_jobs(hostname: str) -> None:
    from django.db import DatabaseError, connections

    from leads.imports.models import ImportJob, ImportStatus

    try:
        count = (
            ImportJob.objects.unscoped()
            .filter(status=ImportStatus.RUNNING, worker=hostname)
            .update(stop_requested=True)
        )
        if count:
            logger.info("Shutdown: %s import(s) will stop at their next chunk.", count)
    except DatabaseError as error:
        logger.warning("Shutdown: could not flag running imports (%s).", error)
    finally:
        connections.close_all()
