"""Reads on import jobs."""

import copy
import itertools
from collections.abc import Iterator

from django.conf import settings
from django.db import connection

from common.models import Membership
from leads.imports.models import ImportIssue, ImportJob, IssueKind
from leads.listing import compiled


def import_job_queryset(*, membership: Membership):
    """Jobs the member may see: an admin every job of the organization, a user their own."""
    jobs = ImportJob.objects.for_org(membership.org)
    return jobs if membership.is_admin else jobs.filter(created_by_id=membership.user_id)


def import_job_health(*, job: ImportJob) -> str:
    """`job.health`, except that a job whose row is held by a chunk being committed is not
    `stalled`, however old its heartbeat: the heartbeat thread skips a held row and the
    chunk writes the heartbeat as it commits (the sweep leaves such a job alone too).
    A job that looks stalled is read again, and its health taken from that read."""
    if job.health != "stalled" or not connection.features.has_select_for_update_skip_locked:
        return job.health  # SQLite: one writer at a time, and no sweep thread to inform
    # FOR SHARE conflicts with a chunk's lock on the row, not with another answer's probe
    # nor with the key-share locks its new issue rows take; SKIP LOCKED never waits.
    # The organization's own rows (the scoped manager), locked as the ORM cannot say.
    probe = (
        ImportJob.objects.for_org(job.org_id)
        .filter(pk=job.pk)
        .values_list("status", "claim", "heartbeat_at", "retries")
    )
    sql, params = compiled(probe)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR SHARE SKIP LOCKED", params)
        row = cursor.fetchone()
    if row is None:  # held by a chunk being committed: its worker is alive
        return "retrying" if job.retries else "ok"
    fresh = copy.copy(job)
    fresh.status, fresh.claim, fresh.heartbeat_at, fresh.retries = row
    return fresh.health


def import_job_issues(*, job: ImportJob, kind: str, limit: int | None = None) -> list[ImportIssue]:
    issues = (
        ImportIssue.objects.for_org(job.org_id)
        .filter(job=job, kind=kind)
        .order_by("row", "field", "message")
    )
    return list(issues[:limit] if limit is not None else issues)


def import_job_error_summary(*, job: ImportJob, membership: Membership | None = None) -> dict:
    """The bounded lists shown in the job's JSON; the error CSV has them all.

    A duplicate names the existing lead's id only when `membership` can see that lead: a
    USER member's import must not reveal the ids of other people's leads."""
    limit = settings.IMPORT_ERRORS_IN_RESPONSE
    errors = [
        {"row": issue.row, "field": issue.field, "message": issue.message}
        for issue in import_job_issues(job=job, kind=IssueKind.ERROR, limit=limit + 1)
    ]
    if job.failure_reason:
        errors.insert(0, {"row": None, "field": "leads_file", "message": job.failure_reason})
    duplicates = [
        {
            "row": issue.row,
            "field": issue.field,
            "message": issue.message,
            "existing_lead_id": issue.existing_lead_id,
        }
        for issue in import_job_issues(job=job, kind=IssueKind.DUPLICATE, limit=limit + 1)
    ]
    duplicates = duplicates[: limit + 1]
    if membership is not None and not membership.is_admin:
        from leads.selectors import leads_visible_to

        ids = {d["existing_lead_id"] for d in duplicates if d["existing_lead_id"]}
        visible = set(
            leads_visible_to(membership=membership).filter(pk__in=ids).values_list("pk", flat=True)
        )
        for duplicate in duplicates:
            if duplicate["existing_lead_id"] not in visible:
                duplicate["existing_lead_id"] = None
    return {
        "errors": errors[:limit],
        "errors_truncated": len(errors) > limit,
        "duplicates": duplicates[:limit],
        "duplicates_truncated": len(duplicates) > limit,
    }


def import_job_failed_rows(*, job: ImportJob) -> Iterator[tuple[list[str], str]]:
    """Each failed row once, in file order: its original cells and every reason."""
    issues = (
        ImportIssue.objects.for_org(job.org_id)
        .filter(job=job, kind=IssueKind.ERROR)
        .order_by("row", "field", "message")
        .values_list("row", "field", "message", "values")
        .iterator(chunk_size=2000)
    )
    for _row, group in itertools.groupby(issues, key=lambda issue: issue[0]):
        group = list(group)
        values = next((issue[3] for issue in group if issue[3]), [])
        reason = "; ".join(f"{field}: {message}" for _, field, message, _ in group)
        yield values, reason
