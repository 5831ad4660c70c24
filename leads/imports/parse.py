"""Reading an uploaded file: what it is, how it is encoded, and its rows as lists of text.

Nothing here knows about leads. Anything that makes the file as a whole unreadable raises
`UnreadableFile` with a reason a person can act on.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from leads.imports import xlsx_reader
from leads.imports.models import FileKind

SNIFF_BYTES = 64 * 1024
_DELIMITERS = ",;\t|"
# Signatures of common files that are neither CSV nor XLSX.
_FOREIGN_MAGIC = (
    b"\x89PNG",
    b"%PDF",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\xd0\xcf\x11\xe0",  # legacy .xls / .doc
    b"\x1f\x8b",
    b"7z\xbc\xaf",
    b"Rar!",
)


class UnreadableFile(Exception):
    """The file as a whole cannot be imported."""


@dataclass
class Table:
    header: list[str]
    # (row number as a spreadsheet shows it, cells as text); fully blank rows are skipped.
    rows: Iterator[tuple[int, list[str]]]
    # Data rows the file claims to hold (XLSX dimension), when known without reading it.
    estimated_rows: int | None = None


def detect_kind(head: bytes, file_name: str = "") -> str:
    """CSV or XLSX from the first bytes (the name is only a hint)."""
    if head.startswith(b"PK\x03\x04"):
        return FileKind.XLSX
    if not head.strip():
        raise UnreadableFile("The file is empty.")
    if head.startswith(_FOREIGN_MAGIC) or b"\x00" in head:
        raise UnreadableFile("The file is not a CSV or XLSX spreadsheet.")
    return FileKind.CSV


def check_xlsx_archive(fileobj) -> None:
    """Refuse a zip bomb before anything inflates it: look only at the archive's directory."""
    try:
        with zipfile.ZipFile(fileobj) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFile("The file is not a valid XLSX workbook.") from exc
    total = sum(member.file_size for member in members)
    if total > settings.IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES:
        raise UnreadableFile("The workbook inflates to an unreasonable size; it was not read.")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1024 * 1024 and ratio > settings.IMPORT_XLSX_MAX_RATIO:
            raise UnreadableFile("The workbook is compressed suspiciously well; it was not read.")
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise UnreadableFile("The file is not a valid XLSX workbook.")


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes strictly, else Windows-1252,
    else Latin-1 (which decodes anything)."""
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            with open(path, "rb") as handle:
                while block := handle.read(1024 * 1024):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


def detect_delimiter(sample: str) -> str:
    # Sniff whole lines only: a cut-off last line confuses the sniffer.
    lines = sample.splitlines(keepends=True)
    whole = "".join(lines[:-1] if len(lines) > 1 else lines)
    try:
        delimiter = csv.Sniffer().sniff(whole, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        delimiter = ""
    header = lines[0] if lines else ""
    if delimiter and header.count(delimiter) > 0:
        return delimiter
    # Fallback: the candidate that splits the header line most; comma if none does.
    counts = {candidate: header.count(candidate) for candidate in _DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


@contextmanager
def open_table(path: Path, kind: str):
    if kind == FileKind.XLSX:
        with _open_xlsx(path) as table:
            yield table
    else:
        with _open_csv(path) as table:
            yield table


def _limit_columns(header: list[str]) -> list[str]:
    while header and not header[-1].strip():
        header.pop()
    if len(header) > settings.IMPORT_MAX_COLUMNS:
        raise UnreadableFile(
            f"The file has more than {settings.IMPORT_MAX_COLUMNS} columns; split it."
        )
    if not header:
        raise UnreadableFile("The file has no header row.")
    return header


@contextmanager
def _open_csv(path: Path):
    # A deliberate bound: a giant cell makes the file unreadable instead of eating memory.
    csv.field_size_limit(settings.IMPORT_MAX_CELL_CHARS)
    encoding = detect_encoding(path)
    with open(path, encoding=encoding, newline="") as handle:
        delimiter = detect_delimiter(handle.read(SNIFF_BYTES))
        handle.seek(0)
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = _limit_columns([cell.strip() for cell in next(reader, [])])
        except csv.Error as exc:
            raise UnreadableFile(_csv_reason(exc)) from exc
        yield Table(header=header, rows=_csv_rows(reader, len(header)))


def _csv_reason(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"A cell is longer than {settings.IMPORT_MAX_CELL_CHARS} characters."
    return f"The CSV file could not be read: {exc}."


def _csv_rows(reader, width: int) -> Iterator[tuple[int, list[str]]]:
    number = 1
    try:
        for cells in reader:
            number += 1
            if len(cells) > width:
                del cells[width:]
            joined = "".join(cells)
            if "\x00" in joined:
                # NUL cannot be stored in PostgreSQL text; nothing legitimate contains it.
                cells = [cell.replace("\x00", "") for cell in cells]
                joined = joined.replace("\x00", "")
            if joined and not joined.isspace():
                yield number, cells
    except csv.Error as exc:
        raise UnreadableFile(_csv_reason(exc)) from exc


@contextmanager
def _open_xlsx(path: Path):
    with open(path, "rb") as handle:
        check_xlsx_archive(handle)
    try:
        with xlsx_reader.read_in_child(path, settings.IMPORT_MAX_COLUMNS) as sheet:
            yield Table(
                header=_limit_columns(sheet.header),
                rows=_workbook_rows(sheet.rows),
                estimated_rows=sheet.estimated_rows,
            )
    except xlsx_reader.WorkbookError as exc:
        raise UnreadableFile(str(exc)) from exc


def _workbook_rows(rows) -> Iterator[tuple[int, list[str]]]:
    # The reader sends only the header's columns; what it cannot read ends the file here.
    try:
        yield from rows
    except xlsx_reader.WorkbookError as exc:
        raise UnreadableFile(str(exc)) from exc


def count_data_rows(path: Path, kind: str, limit: int) -> int:
    """Data rows in the file; stops counting (and fails) past `limit`."""
    count = 0
    with open_table(path, kind) as table:
        for _ in table.rows:
            count += 1
            if count > limit:
                raise UnreadableFile(
                    f"The file has more than {limit} data rows; split it into smaller files."
                )
    return count


def read_head(fileobj, size: int = SNIFF_BYTES) -> bytes:
    position = fileobj.tell()
    head = fileobj.read(size)
    fileobj.seek(position)
    return head if isinstance(head, bytes) else head.encode()
