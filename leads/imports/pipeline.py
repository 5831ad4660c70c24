"""Committing the chunks in file order, each with its checkpoint, and keeping the
planner's statistics fresh while the table grows.

(A writer thread overlapping PostgreSQL's work with the validation of the next chunk was
measured on the 2-core benchmark machine: no gain, the cores are already busy.)
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from leads.imports.models import ImportJob
from leads.imports.write import ChunkInput, chunk_commit
from leads.models import Lead


class PlannerStats:
    """Keeps PostgreSQL's statistics on the lead table in step with a big import.

    An organization's table can grow from nothing to a million rows in one job, far faster
    than autovacuum re-analyses it; with stale statistics the duplicate look-up stops using
    the (org, e-mail) index and every chunk scans the organization's rows. ANALYZE each
    time the imported rows double keeps the plan right for a logarithmic cost. Only the two
    columns the look-up filters on are analysed (a sixth of the cost of the whole table);
    autovacuum refreshes the others."""

    def __init__(self, job: ImportJob):
        self.enabled = connection.vendor == "postgresql" and not job.dry_run
        self.next_at = settings.IMPORT_CHUNK_ROWS

    def after_chunk(self, job: ImportJob) -> None:
        if self.enabled and job.imported_count >= self.next_at:
            self.next_at = job.imported_count * 2
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Lead._meta.db_table} (org_id, email_normalized)")


class SerialWriter:
    def __init__(self, job: ImportJob, seen: dict[str, int]):
        self.job = job
        self.seen = seen
        self.planner = PlannerStats(job)

    def _commit(self, chunk: ChunkInput) -> None:
        # A real import finds earlier chunks' e-mails in the table, so it remembers only the
        # chunk's own (memory stays flat); a dry run writes nothing and remembers the file's.
        seen = self.seen if self.job.dry_run else {}
        self.job = chunk_commit(job=self.job, chunk=chunk, seen=seen)
        self.planner.after_chunk(self.job)

    def submit(self, chunk: ChunkInput) -> None:
        self._commit(chunk)

    def close(self) -> ImportJob:
        return self.job

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


def chunk_writer(job: ImportJob, seen: dict[str, int]) -> SerialWriter:
    return SerialWriter(job, seen)
