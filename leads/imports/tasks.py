"""The import task: takes a job id only; the job row holds everything else."""

from celery import shared_task

from leads.imports.services import import_job_run


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def lead_import_run(job_id: str) -> str | None:
    """Idempotent: a finished job is left alone, an interrupted one resumes at its
    checkpoint (the last committed chunk)."""
    job = import_job_run(job_id=job_id)
    return job.status if job is not None else None
