"""Text of every kind imports as it was written, from CSV and from XLSX as Excel writes
it, through both write paths (PostgreSQL's COPY, SQLite's INSERT): line breaks of any
kind, quotes, separators, COPY's own markers, control characters, formula triggers,
emoji."""

import random
import re

import pytest

from leads.models import Lead
from tests.imports.conftest import csv_bytes, odd_text, shared_strings_xlsx_bytes, upload

pytestmark = pytest.mark.django_db

ROWS = 250  # past the change log's COPY threshold (200 events)
# Characters an XLSX cannot hold as they are, which Excel writes as `_xHHHH_` (a carriage
# return too: XML would read a bare one as a line feed).
EXCEL_ESCAPES = re.compile("[\x00-\x08\x0b\x0c\r\x0e-\x1f]")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_odd_text_imports_as_written(admin_client, org, kind):
    rng = random.Random(kind)
    descriptions = [odd_text(rng) for _ in range(ROWS)]
    rows = [["First Name", "Last Name", "Email", "Description"]] + [
        [f"F{n}", "L", f"u{n}@example.com", text] for n, text in enumerate(descriptions)
    ]
    if kind == "csv":
        content, name = csv_bytes(rows), "leads.csv"
    else:
        escaped = [
            [EXCEL_ESCAPES.sub(lambda m: f"_x{ord(m.group()):04X}_", value) for value in row]
            for row in rows
        ]
        content, name = shared_strings_xlsx_bytes(escaped), "leads.xlsx"

    job = upload(admin_client, content, name=name)

    assert (job["status"], job["imported_count"]) == ("success", ROWS), job
    stored = dict(Lead.objects.for_org(org).values_list("email", "description"))
    # The import strips each value's ends, nothing else.
    assert [stored[f"u{n}@example.com"] for n in range(ROWS)] == [
        text.strip() for text in descriptions
    ]
