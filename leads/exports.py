"""Lead exports: every lead a list would show, streamed in pages so that neither the web
process nor the database holds the whole file or result at once.

Rows are read in keyset pages (the list's cursor), each page a short query of its own:
a million-lead export costs the same per row at the end as at the start, never runs one
long statement, and takes the memory of one page. The columns carry the import's header
names, so an exported file imports back as it is.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Q, QuerySet

from common import xlsx
from common.spreadsheets import safe_cell
from leads.choices import OPEN_STATUSES, LeadStatus
from leads.listing import NO_AMOUNT, after, ordered
from leads.models import Lead
from leads.services import LEAD_SCALAR_FIELDS

#: Lead columns in the file, named as the import reads them: every field a caller may set,
#: the names first.
EXPORT_FIELDS = (
    "first_name",
    "last_name",
    *(name for name in LEAD_SCALAR_FIELDS if name not in {"first_name", "last_name"}),
)
HEADER = (*EXPORT_FIELDS, "tags", "assigned_to", "created_on", "id")


def export_rows(*, leads: QuerySet, ordering: str, page_rows: int | None = None) -> Iterator[list]:
    """Rows (lists of cell values, formula-like text neutralised) of the listed leads: the
    open list, then the closed one, each in the list's order."""
    page_rows = page_rows or settings.EXPORT_PAGE_ROWS
    # Each list by its own status condition, as the list reads it: the substring filters'
    # trigram indexes are per list (leads/migrations/0007) and unused without it.
    for listed in (Q(status__in=OPEN_STATUSES), Q(status=LeadStatus.CLOSED)):
        yield from _list_rows(leads.filter(listed), ordering, page_rows)


def _list_rows(leads: QuerySet, ordering: str, page_rows: int) -> Iterator[list]:
    leads = ordered(leads, ordering)
    sort_field = ordering.lstrip("-")
    columns = ("pk", *EXPORT_FIELDS, "created_on")
    position = None
    while True:
        page = after(leads, ordering, position) if position else leads
        rows = list(page.values_list(*columns, sort_field)[:page_rows])
        if not rows:
            return
        ids = [row[0] for row in rows]
        tags, assignees = _tags_of(ids), _assignees_of(ids)
        for row in rows:
            pk = row[0]
            cells = [safe_cell(value) for value in row[1:-2]]
            cells.append(safe_cell(", ".join(tags.get(pk, ()))))
            cells.append(", ".join(assignees.get(pk, ())))
            cells.append(row[-2].isoformat())
            cells.append(str(pk))
            yield cells
        if len(rows) < page_rows:
            return
        last = rows[-1]
        value = last[-1]
        if sort_field == "opportunity_amount" and value is None:
            value = NO_AMOUNT
        position = [value, last[0]]


def _tags_of(ids) -> dict:
    return _linked_names(Lead.tags.through, "tag__name", ids)


def _assignees_of(ids) -> dict:
    return _linked_names(Lead.assigned_to.through, "user__email", ids)


def _linked_names(link, name: str, ids) -> dict:
    """{lead id: [names]} through a link table, sorted. Reached from the page's own lead
    ids, so other organizations' rows are never read (a tag or an assignee is only ever
    linked within the lead's organization)."""
    found = defaultdict(list)
    rows = link.objects.filter(lead_id__in=ids).order_by(name).values_list("lead_id", name)
    for lead_id, value in rows:
        found[lead_id].append(value)
    return found


class _Line:
    """csv.writer's file: hands back what it was given to write."""

    def write(self, value):
        return value


def csv_stream(rows: Iterator[list], *, batch: int = 500) -> Iterator[bytes]:
    """UTF-8 with a BOM (Excel then reads accents right), in chunks of `batch` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(HEADER)
    pending = 1
    for row in rows:
        writer.writerow(row)
        pending += 1
        if pending >= batch:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if buffer.tell():
        yield buffer.getvalue().encode()


def xlsx_stream(rows: Iterator[list]) -> Iterator[bytes]:
    """An XLSX workbook whose bytes leave as the rows come (common.xlsx): the first ones at
    once, however many leads follow; a new sheet whenever one is full (Excel's 1,048,576
    rows, the header included)."""
    return xlsx.xlsx_stream(list(HEADER), rows, sheet_name="Leads")
