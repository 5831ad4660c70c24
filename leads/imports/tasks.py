"""The import task: takes a job id only; the job row holds everything else."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

from leads.imports.healing import job_note_retry
from leads.imports.services import import_job_run


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None
)
def lead_import_run(self, job_id: str) -> str | None:
    """Idempotent: a finished job is left alone, an interrupted one resumes at its
    checkpoint (the last committed chunk). A database outage is retried with backoff, by
    the same message id, which resumes the job at once when the database is back."""
    try:
        job = import_job_run(
            job_id=job_id, delivery=self.request.id, worker=self.request.hostname or ""
        )
    except (OperationalError, InterfaceError) as error:
        connection.close()
        if self.request.is_eager:
            raise
        job_note_retry(job_id=job_id, error=error)
        delay = min(settings.IMPORT_RETRY_MAX_SECONDS, 2**self.request.retries)
        raise self.retry(exc=error, countdown=delay) from error
    return job.status if job is not None else None
