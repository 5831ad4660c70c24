"""One chunk of validated rows -> leads, their relations and the job's checkpoint, in one
transaction. Either all of it is committed or none of it is, so a worker killed at any
moment leaves the job at its last checkpoint."""

from __future__ import annotations

import functools
import operator
import uuid
from dataclasses import dataclass, field

from django.db import connection, models, transaction
from django.utils import timezone

from changelog.models import Channel
from changelog.services import Actor, Change, EventData, events_record, jsonable
from common.bulk_copy import copy_rows
from common.models import Organization
from common.tags import tags_get_or_create
from leads.assignment import LeadFacts, assignees_for_new_leads
from leads.choices import LeadStatus
from leads.imports.models import ImportIssue, ImportJob, ImportStatus, IssueKind, OnDuplicate
from leads.imports.validate import LeadRow
from leads.models import Lead

# Keeps `IN (...)` lists within every backend's parameter limit.
_LOOKUP_BATCH = 500


class JobSuperseded(Exception):
    """Another delivery of the same task moved the checkpoint: this one stops."""


@dataclass
class ChunkInput:
    """A chunk after validation: the valid rows and the issues of the invalid ones."""

    size: int
    valid: list[LeadRow] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    failed: int = 0


def chunk_commit(*, job: ImportJob, chunk: ChunkInput, seen: dict[str, int]) -> ImportJob:
    """Write the chunk and advance the checkpoint. `seen` maps the e-mails already taken in
    this file to their row (per chunk for real imports, whose earlier chunks are in the
    table; the whole file for a dry run, which writes no lead)."""
    org = job.org
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A database crash may lose the last chunks' commits, but always together
            # with their checkpoint (same transaction), so the job simply redoes them.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        locked = ImportJob.objects.unscoped().select_for_update().get(pk=job.pk)
        if (
            locked.rows_done != job.rows_done
            or locked.status != ImportStatus.RUNNING
            or locked.claim != job.claim
        ):
            raise JobSuperseded(str(job.pk))
        # Serialises duplicate detection between imports of the same organization.
        list(Organization.objects.select_for_update().filter(pk=org.pk).values_list("pk"))

        issues = list(chunk.issues)
        to_update: list[tuple[LeadRow, uuid.UUID]] = []
        to_create = _drop_duplicates(
            job=job, rows=chunk.valid, seen=seen, issues=issues, to_update=to_update
        )
        duplicates = len(chunk.valid) - len(to_create) - len(to_update)
        events: list[EventData] = []
        # Updates before inserts: every writer takes lead rows before the tally rows their
        # triggers update (leads/migrations/0006_lead_tally.py), as the API's lead_update
        # does; inserting first would hold tally rows while waiting for a lead that a
        # concurrent PATCH holds while it waits for those tally rows: a deadlock.
        if not job.dry_run and to_update:
            events += leads_update_from_rows(org=org, rows=to_update)
        if not job.dry_run and to_create:
            events += _create_leads(job=job, org=org, rows=to_create)
        # The chunk's whole change log: one statement, committed with the chunk.
        events_record(org=org, change=import_change(job), events=events)
        ImportIssue.objects.bulk_create(issues, batch_size=1000)

        locked.rows_done += chunk.size
        locked.imported_count += len(to_create)
        locked.updated_count += len(to_update)
        locked.failed_count += chunk.failed
        locked.duplicate_count += duplicates
        # A committed chunk is also a heartbeat, and ends any run of database errors.
        locked.heartbeat_at = timezone.now()
        locked.retries = 0
        locked.last_error = ""
        locked.save(
            update_fields=[
                *ImportJob.CHECKPOINT_FIELDS,
                "heartbeat_at",
                "retries",
                "last_error",
                "updated_on",
            ]
        )
    return locked


def import_change(job: ImportJob) -> Change:
    return Change(Actor.import_job(job), Channel.IMPORT)


def _existing_by_email(org: Organization, emails: list[str]) -> dict[str, uuid.UUID]:
    existing: dict[str, uuid.UUID] = {}
    if connection.vendor == "postgresql":
        # One round trip per chunk: the whole list as one array parameter.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT email_normalized, id FROM leads_lead "
                "WHERE org_id = %s AND email_normalized = ANY(%s)",
                [org.pk, emails],
            )
            for email, lead_id in cursor.fetchall():
                existing.setdefault(email, lead_id)
        return existing
    for start in range(0, len(emails), _LOOKUP_BATCH):
        batch = emails[start : start + _LOOKUP_BATCH]
        for email, lead_id in (
            Lead.objects.for_org(org)
            .filter(email_normalized__in=batch)
            .values_list("email_normalized", "id")
        ):
            existing.setdefault(email, lead_id)
    return existing


def _drop_duplicates(
    *,
    job: ImportJob,
    rows: list[LeadRow],
    seen: dict[str, int],
    issues: list,
    to_update: list,
) -> list[LeadRow]:
    """Policy: the first row with an e-mail wins; later rows with the same e-mail (any
    case), and rows matching a lead the organization already has, are skipped and counted
    as duplicates, each reported with the row or lead it duplicates. With
    `on_duplicate=update`, the first row matching an existing lead goes to `to_update`
    (with that lead's id) instead."""
    emails = sorted({row.email_normalized for row in rows if row.email_normalized})
    existing = _existing_by_email(job.org, emails) if emails else {}
    update = job.on_duplicate == OnDuplicate.UPDATE
    keep = []
    for row in rows:
        email = row.email_normalized
        if not email:
            keep.append(row)
            continue
        if update and email in existing and email not in seen:
            seen[email] = row.number
            to_update.append((row, existing[email]))
        elif email in existing and not (update and email in seen):
            issues.append(
                _duplicate(job, row, f"A lead with e-mail {email} already exists.", existing[email])
            )
        elif email in seen:
            issues.append(
                _duplicate(job, row, f"Same e-mail as row {seen[email]} ({email}).", None)
            )
        else:
            seen[email] = row.number
            keep.append(row)
    return keep


def _duplicate(job: ImportJob, row: LeadRow, message: str, lead_id) -> ImportIssue:
    return ImportIssue(
        org_id=job.org_id,
        job_id=job.pk,
        kind=IssueKind.DUPLICATE,
        row=row.number,
        field="email",
        message=message,
        existing_lead_id=lead_id,
    )


def leads_update_from_rows(
    *, org: Organization, rows: list[tuple[LeadRow, uuid.UUID]]
) -> list[EventData]:
    """Each existing lead takes its row's non-empty fields; tags are added, assignees
    replaced when the row names some. A converted lead keeps its status (it cannot
    change), and no row changes a lead's e-mail (it is what matched). Returns the
    `lead.updated` events (with old values) for the caller to record."""
    now = timezone.now()
    names = sorted({name for row, _ in rows for name in row.values} - _NOT_UPDATED - {"status"})
    # Every lead this chunk updates is locked first, in one order (their ids), before any
    # write takes tally rows (see chunk_commit): updating them one by one would otherwise
    # hold tally rows while waiting for the next lead.
    before = {
        values["id"]: values
        for values in Lead.objects.for_org(org)
        .filter(pk__in=[lead_id for _, lead_id in rows])
        .order_by("pk")
        .select_for_update()
        .values("id", "status", *names)
    }
    converted = {pk for pk, values in before.items() if values["status"] == LeadStatus.CONVERTED}
    assignees_before: dict = {}
    for link in Lead.assigned_to.through.objects.filter(
        lead_id__in=[lead_id for row, lead_id in rows if row.assignee_ids]
    ).values_list("lead_id", "user_id"):
        assignees_before.setdefault(link[0], []).append(str(link[1]))
    events: list[EventData] = []
    tag_names = {tag.lower(): tag for row, _ in rows for tag in row.tags}
    tag_ids = (
        {tag.name.lower(): tag.pk for tag in tags_get_or_create(org=org, names=tag_names.values())}
        if tag_names
        else {}
    )
    TagLink, AssigneeLink = Lead.tags.through, Lead.assigned_to.through
    tag_links, assignee_links, reassigned = [], [], []
    for row, lead_id in rows:
        changes = {
            name: value
            for name, value in row.values.items()
            if value not in ("", None) and name not in _NOT_UPDATED
        }
        if not row.status_given or lead_id in converted:
            changes.pop("status", None)
        Lead.objects.for_org(org).filter(pk=lead_id).update(**changes, updated_on=now)
        tag_links += [
            TagLink(lead_id=lead_id, tag_id=tag_id)
            for tag_id in {tag_ids[tag.lower()] for tag in row.tags}
        ]
        old = before.get(lead_id, {})
        logged = {
            name: [jsonable(old.get(name)), jsonable(value)]
            for name, value in changes.items()
            if jsonable(old.get(name)) != jsonable(value)
        }
        if row.tags:
            logged["tags_added"] = [None, sorted(row.tags)]
        if logged:
            events.append(EventData("lead.updated", "updated", lead_id, logged))
        if row.assignee_ids:
            reassigned.append(lead_id)
            assignee_links += [AssigneeLink(lead_id=lead_id, user_id=u) for u in row.assignee_ids]
            old_ids = sorted(assignees_before.get(lead_id, []))
            new_ids = sorted({str(u) for u in row.assignee_ids})
            if old_ids != new_ids:
                events.append(
                    EventData(
                        "lead.assigned", "assigned", lead_id, {"assigned_to": [old_ids, new_ids]}
                    )
                )
    TagLink.objects.bulk_create(tag_links, ignore_conflicts=True)
    if reassigned:
        AssigneeLink.objects.filter(lead_id__in=reassigned).delete()
        AssigneeLink.objects.bulk_create(assignee_links, ignore_conflicts=True)
    return events


_NOT_UPDATED = {"email", "email_normalized"}


@functools.lru_cache(maxsize=1024)
def _facts_for(source: str, country: str, state: str, tags: frozenset) -> LeadFacts:
    # Rows of a file share a handful of distinct facts; build each once.
    return LeadFacts(source=source, country=country, state=state, tags=tags)


def _facts(row: LeadRow) -> LeadFacts:
    values = row.values
    return _facts_for(
        values.get("source", ""),
        values.get("country", ""),
        values.get("state", ""),
        frozenset(tag.lower() for tag in row.tags) if row.tags else frozenset(),
    )


def _create_leads(*, job: ImportJob, org: Organization, rows: list[LeadRow]) -> list[EventData]:
    """Write the leads; return their `lead.created` (and `lead.assigned`) events."""
    now = timezone.now()
    unassigned = [row for row in rows if not row.assignee_ids]
    by_rule = {id(row) for row in unassigned}
    if unassigned:
        # The assignment rules are asked once per chunk, for every lead without an assignee.
        facts = [_facts(row) for row in unassigned]
        for row, users in zip(
            unassigned, assignees_for_new_leads(org=org, leads=facts, fallback=None), strict=True
        ):
            row.assignee_ids = [user.pk for user in users]

    tag_names = {tag.lower(): tag for row in rows for tag in row.tags}
    tag_ids = (
        {tag.name.lower(): tag.pk for tag in tags_get_or_create(org=org, names=tag_names.values())}
        if tag_names
        else {}
    )

    leads, tag_links, assignee_links, events = [], [], [], []
    fixed = {
        "org_id": org.pk,
        "created_by_id": job.created_by_id,
        "created_on": now,
        "updated_on": now,
    }
    for row in rows:
        lead_id = uuid.uuid4()
        leads.append((lead_id, row.values))
        for tag_id in {tag_ids[tag.lower()] for tag in row.tags}:
            tag_links.append((lead_id, tag_id))
        for user_id in row.assignee_ids:
            assignee_links.append((lead_id, str(user_id)))
        events += _created_events(lead_id, row, by_rule=id(row) in by_rule)
    if connection.vendor == "postgresql":
        _copy_leads(leads, fixed, tag_links, assignee_links)
    else:
        _bulk_create_leads(leads, fixed, tag_links, assignee_links)
    return events


def _created_events(lead_id, row: LeadRow, *, by_rule: bool) -> list[EventData]:
    # Runs once per imported row: plain strings (nearly every value) skip `jsonable`.
    changes = {
        name: [None, value if type(value) is str else jsonable(value)]
        for name, value in row.values.items()
        if value not in ("", None) and name != "email_normalized"
    }
    if row.tags:
        changes["tags"] = [[], sorted(row.tags)]
    events = [EventData("lead.created", "created", lead_id, changes)]
    if row.assignee_ids:
        assignees = sorted({str(user_id) for user_id in row.assignee_ids})
        events.append(
            EventData(
                "lead.assigned",
                "assigned",
                lead_id,
                {"assigned_to": [[], assignees]},
                channel=Channel.ASSIGNMENT_RULE if by_rule else None,
            )
        )
    return events


def _bulk_create_leads(leads, fixed, tag_links, assignee_links) -> None:
    Lead.objects.bulk_create(
        [Lead(id=lead_id, **fixed, **values) for lead_id, values in leads], batch_size=1000
    )
    TagLink, AssigneeLink = Lead.tags.through, Lead.assigned_to.through
    TagLink.objects.bulk_create(
        [TagLink(lead_id=lead_id, tag_id=tag_id) for lead_id, tag_id in tag_links],
        batch_size=2000,
    )
    AssigneeLink.objects.bulk_create(
        [AssigneeLink(lead_id=lead_id, user_id=user_id) for lead_id, user_id in assignee_links],
        batch_size=2000,
    )


# PostgreSQL: the same rows through COPY, several times faster than a multi-row INSERT
# built by the ORM. Every column is written explicitly (Django keeps defaults in Python).
_LEAD_FIELDS = list(Lead._meta.concrete_fields)
_LEAD_DEFAULTS = {
    f.attname: f.get_default() for f in _LEAD_FIELDS if f.attname not in {"id", "org_id"}
}
# Empty text must stay '' (COPY's CSV format would read an empty field as NULL).
_LEAD_TEXT_COLUMNS = [
    f.column
    for f in _LEAD_FIELDS
    if isinstance(f, models.CharField | models.TextField) and not f.null
]


def _copy_sql(table: str, columns: list[str], not_null: list[str]) -> str:
    quote = connection.ops.quote_name
    force = f", FORCE_NOT_NULL ({', '.join(map(quote, not_null))})" if not_null else ""
    return (
        f"COPY {quote(table)} ({', '.join(map(quote, columns))}) "
        f"FROM STDIN WITH (FORMAT csv{force})"
    )


def _copy_leads(leads, fixed, tag_links, assignee_links) -> None:
    columns = [f.column for f in _LEAD_FIELDS]
    # C-level dict merge and itemgetter: this runs once per row of a million-row file.
    record = operator.itemgetter(*[f.attname for f in _LEAD_FIELDS])
    base = {**_LEAD_DEFAULTS, **fixed}
    records = (record({**base, **values, "id": lead_id}) for lead_id, values in leads)
    TagLink, AssigneeLink = Lead.tags.through, Lead.assigned_to.through
    with connection.cursor() as cursor:
        raw = cursor.cursor
        copy_rows(raw, _copy_sql(Lead._meta.db_table, columns, _LEAD_TEXT_COLUMNS), records)
        if tag_links:
            copy_rows(raw, _copy_sql(TagLink._meta.db_table, ["lead_id", "tag_id"], []), tag_links)
        if assignee_links:
            copy_rows(
                raw,
                _copy_sql(AssigneeLink._meta.db_table, ["lead_id", "user_id"], []),
                assignee_links,
            )
