"""The workbook reader that runs in a child process: same rows as reading in-process, no
child left behind, and a reader that dies or a workbook that breaks part-way is an error
with a reason, never a hang or a silent end."""

import io
import os
import random
import signal
import string
import zipfile
from pathlib import Path

import pytest

from leads.imports.models import ImportStatus
from leads.imports.xlsx_reader import WorkbookError, read_in_child, read_in_process
from leads.models import Lead
from tests.imports.conftest import upload, xlsx_bytes

MAX_COLUMNS = 200


def _write(tmp_path: Path, rows) -> Path:
    path = tmp_path / "leads.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    return path


def _reader_pids(path: Path) -> list[int]:
    """Processes running the reader module on this file (from /proc: Linux only)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"leads.imports.xlsx_reader" in command and str(path).encode() in command:
            pids.append(int(entry.name))
    return pids


needs_proc = pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")


def test_child_reads_exactly_what_openpyxl_reads_here(tmp_path):
    rows = [["First Name", "Last Name", "E-mail", "Zip", "Amount", "", ""]]
    for n in range(1, 1300):  # several frames
        rows.append([f"Zoë {n}", "Ødegaard", f"z{n}@example.com", 75000 + n, n * 1.5, None, None])
    rows[10] = [None] * 7  # a blank row is not a data row
    rows[20][1] = "line one\nline two, with comma"
    path = _write(tmp_path, rows)

    with read_in_process(path, MAX_COLUMNS) as here:
        expected = (here.header, here.estimated_rows, [tuple(row) for row in here.rows])
    with read_in_child(path, MAX_COLUMNS) as there:
        received = (there.header, there.estimated_rows, [tuple(row) for row in there.rows])

    assert received == expected
    header, estimate, data = received
    assert header == ["First Name", "Last Name", "E-mail", "Zip", "Amount"]
    assert estimate == 1299
    assert len(data) == 1298 and data[0] == (
        2,
        ["Zoë 1", "Ødegaard", "z1@example.com", "75001", "1.5"],
    )
    by_number = dict(data)
    assert 11 not in by_number  # the blank row, skipped
    assert by_number[21] == [
        "Zoë 20",
        "line one\nline two, with comma",
        "z20@example.com",
        "75020",
        "30",
    ]


@needs_proc
def test_stopping_early_ends_the_child(tmp_path):
    path = _write(tmp_path, [["first_name", "last_name"]] + [["Ada", str(n)] for n in range(5000)])

    with read_in_child(path, MAX_COLUMNS) as sheet:
        assert next(iter(sheet.rows)) == [2, ["Ada", "0"]]
        assert len(_reader_pids(path)) == 1

    assert _reader_pids(path) == []


@needs_proc
def test_a_reader_killed_mid_file_is_an_error_not_a_hang_or_an_early_end(tmp_path):
    path = _write(tmp_path, [["first_name", "last_name"]] + [["Ada", str(n)] for n in range(20000)])

    with pytest.raises(WorkbookError, match="reader stopped"), read_in_child(path, 200) as sheet:
        rows = iter(sheet.rows)
        next(rows)
        for pid in _reader_pids(path):
            os.kill(pid, signal.SIGKILL)
        for _ in rows:
            pass


def _cut_sheet(xlsx: bytes, keep: float) -> bytes:
    """The same workbook with its worksheet XML cut short, as a broken export leaves it."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = data[: int(len(data) * keep)]
            out.writestr(member, data)
    return buffer.getvalue()


def test_workbook_broken_part_way_fails_the_job_and_keeps_what_was_committed(
    admin_client, org, settings
):
    settings.IMPORT_CHUNK_ROWS = 100
    rows = [["first_name", "last_name", "email"]]
    rows += [["Ada", f"Lovelace {n}", f"ada{n}@example.com"] for n in range(3000)]
    content = _cut_sheet(xlsx_bytes(rows), keep=0.6)

    job = upload(admin_client, content, name="broken.xlsx")

    assert job["status"] == ImportStatus.FAILED
    assert "could not be read" in job["errors"][0]["message"]
    imported = job["imported_count"]
    assert 0 < imported < 3000 and imported % 100 == 0  # whole chunks only
    assert (
        imported + job["failed_count"] + job["duplicate_count"] == job["progress"]["rows_processed"]
    )
    assert Lead.objects.for_org(org).count() == imported


def _with_cell_text(xlsx: bytes, placeholder: str, value: str) -> bytes:
    """openpyxl cuts cells to Excel's 32,767 characters when writing; a hand-made (or
    hostile) workbook need not: put `value` in place of `placeholder` in the sheet."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    buffer = io.BytesIO()
    replaced = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for member in source.infolist():
            data = source.read(member)
            replaced += data.count(placeholder.encode())
            out.writestr(member, data.replace(placeholder.encode(), value.encode()))
    assert replaced == 1
    return buffer.getvalue()


def test_ten_megabyte_cell_in_a_workbook_fails_its_row_not_the_worker(admin_client, org):
    rows = [
        ["first_name", "last_name", "description"],
        ["Ada", "Lovelace", "HUGE-CELL"],
        ["Grace", "Hopper", "fine"],
    ]
    # Letters that do not compress 200:1, or the upload would be refused as a zip bomb.
    huge = "".join(random.Random(5).choices(string.ascii_letters, k=10 << 20))
    content = _with_cell_text(xlsx_bytes(rows), "HUGE-CELL", huge)

    job = upload(admin_client, content, name="big-cell.xlsx")

    assert job["status"] == ImportStatus.SUCCESS
    assert (job["imported_count"], job["failed_count"]) == (1, 1)
    assert job["errors"][0]["row"] == 2 and job["errors"][0]["field"] == "description"
    assert Lead.objects.for_org(org).get().first_name == "Grace"
