"""Reading the first worksheet of an XLSX workbook, in a child process of the importer.

openpyxl's read-only parser is pure Python and takes as long as the rest of an XLSX import
together. Run in the importing process it comes on top of the validation and writes; run
in a child it overlaps them on a second core: the importer receives rows already converted to text
while it validates and writes the previous ones (see docs/benchmarks.md).

The child is this module run as a program (`python -m leads.imports.xlsx_reader`). It
needs neither Django nor the database, only openpyxl and defusedxml. It writes frames,
one JSON array per line, to its standard output; the parent reads them in a thread into a
bounded queue, so the child runs ahead by at most `_QUEUE_FRAMES` frames and memory stays
flat.
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
import queue
import re
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException

_FRAME_ROWS = 500
_FRAME_CHARS = 1 << 20
_QUEUE_FRAMES = 32
# No frame takes this long to read; past it the child is taken as hung.
_FRAME_TIMEOUT_SECONDS = 600
_PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Anything openpyxl raises on a damaged or hostile workbook (defusedxml's refusals are
# ValueErrors; broken XML is a ParseError/SyntaxError).
XLSX_ERRORS = (
    zipfile.BadZipFile,
    KeyError,
    ValueError,
    TypeError,
    OSError,
    ParseError,
    SyntaxError,
    IndexError,
    AttributeError,
    EOFError,
)


class WorkbookError(Exception):
    """The workbook cannot be read; the message says why, for a person."""


@dataclass
class Sheet:
    header: list[str]
    # Data rows the workbook claims to hold (its dimension), when it says.
    estimated_rows: int | None
    # (row number as a spreadsheet shows it, cells as text); fully blank rows are skipped.
    rows: Iterator[tuple[int, list[str]]]


# The workbook format's escape of a character in text, `_xHHHH_` (ECMA-376 ST_Xstring):
# Excel writes a carriage return as `_x000D_` and text that looks like an escape with its
# underscore escaped (`_x005F_`). Decoded here, once, for every text cell (_load_workbook
# keeps openpyxl from half-decoding the shared strings first).
_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")


def _unescaped(match: re.Match) -> str:
    code = int(match.group(1), 16)
    # NUL and lone surrogates no database text holds: left as written.
    return match.group(0) if code == 0 or 0xD800 <= code <= 0xDFFF else chr(code)


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _ESCAPED.sub(_unescaped, value) if "_x" in value else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # Spreadsheets store 75201 or 4155550100 as floats.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | int):
        return str(value)
    return str(value)


def _load_workbook(path: Path):
    """openpyxl's `load_workbook(path, read_only=True, data_only=True)`, but with the shared
    strings as written: openpyxl drops every `x005F_` from them (its shortcut for the
    escaped underscore), which would turn a typed `_x0041_` into "A" once cell_text
    decodes, and a typed `ax005F_b` into "ab"."""
    from openpyxl.cell.text import Text
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    class Reader(ExcelReader):
        def read_strings(self):
            part = self.package.find(SHARED_STRINGS)
            if part is None:
                return
            item = f"{{{SHEET_MAIN_NS}}}si"
            with self.archive.open(part.PartName[1:]) as source:
                for _event, node in iterparse(source):
                    if node.tag == item:
                        self.shared_strings.append(Text.from_tree(node).content)
                        node.clear()

    reader = Reader(path, read_only=True, data_only=True)
    reader.read()
    return reader.wb


def failure_reason(exc: BaseException) -> str:
    # openpyxl wraps defusedxml's refusal of entity declarations (billion laughs, XXE).
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            return "The workbook declares XML entities or a DTD; refused for safety."
        cause = cause.__cause__ or cause.__context__
    return f"The workbook could not be read ({type(exc).__name__})."


@contextmanager
def read_in_process(path: Path, max_columns: int):
    """The first worksheet, read here (what the child runs)."""
    try:
        workbook = _load_workbook(path)
    except XLSX_ERRORS as exc:
        raise WorkbookError(failure_reason(exc)) from exc
    try:
        if not workbook.worksheets:
            raise WorkbookError("The workbook has no worksheet.")
        sheet = workbook.worksheets[0]
        try:
            # One column past the limit, so that a wider file is seen as too wide.
            first = next(sheet.iter_rows(max_row=1, max_col=max_columns + 1, values_only=True), ())
        except XLSX_ERRORS as exc:
            raise WorkbookError(failure_reason(exc)) from exc
        header = [cell_text(cell).strip() for cell in first]
        while header and not header[-1]:
            header.pop()  # the padding up to max_col, and empty trailing columns
        estimate = (sheet.max_row - 1) if sheet.max_row else None
        # Only the header's columns are read: what lies beyond has no name to map to.
        values = sheet.iter_rows(min_row=2, max_col=max(1, len(header)), values_only=True)
        rows = _text_rows(values)
        yield Sheet(header=header, estimated_rows=estimate, rows=rows)
    finally:
        workbook.close()


def _text_rows(values) -> Iterator[tuple[int, list[str]]]:
    number = 1
    try:
        for row in values:
            number += 1
            cells = [cell_text(value) for value in row]
            if any(cell.strip() for cell in cells):
                yield number, cells
    except XLSX_ERRORS as exc:
        raise WorkbookError(failure_reason(exc)) from exc


# --- the parent side ---------------------------------------------------------------------


@contextmanager
def read_in_child(path: Path, max_columns: int):
    """The first worksheet, read by a child process; rows arrive while the caller works.

    Stopping early (an exception, a row limit) ends the child."""
    # Our own interpreter running our own module; the file's path is an argument, not code.
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", __name__, str(path), str(max_columns)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        cwd=_PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": _python_path()},
    )
    frames: queue.Queue = queue.Queue(maxsize=_QUEUE_FRAMES)
    stop = threading.Event()
    pump = threading.Thread(target=_pump, args=(child.stdout, frames, stop), daemon=True)
    pump.start()
    try:
        kind, *payload = _next_frame(frames)
        if kind != "sheet":
            raise WorkbookError("The workbook could not be read (no worksheet).")
        header, estimate = payload
        yield Sheet(header=header, estimated_rows=estimate, rows=_received_rows(frames))
    finally:
        stop.set()
        child.kill()
        child.wait()
        pump.join(timeout=5)
        child.stdout.close()


def _python_path() -> str:
    existing = os.environ.get("PYTHONPATH")
    return os.pathsep.join(filter(None, [str(_PROJECT_ROOT), existing]))


def _pump(stream, frames: queue.Queue, stop: threading.Event) -> None:
    """Move frames from the child's pipe to the queue, so the child never waits on us."""
    while not stop.is_set():
        try:
            frame = json.loads(stream.readline() or '["lost"]')
        except (OSError, ValueError):
            frame = ["lost"]
        while not stop.is_set():
            try:
                frames.put(frame, timeout=0.2)
                break
            except queue.Full:
                continue
        if frame[0] in ("end", "error", "lost"):
            return


def _next_frame(frames: queue.Queue) -> list:
    try:
        frame = frames.get(timeout=_FRAME_TIMEOUT_SECONDS)
    except queue.Empty:
        frame = ["lost"]
    if frame[0] == "error":
        raise WorkbookError(frame[1])
    if frame[0] == "lost":
        raise WorkbookError("The workbook could not be read (the reader stopped).")
    return frame


def _received_rows(frames: queue.Queue) -> Iterator[tuple[int, list[str]]]:
    while True:
        kind, *payload = _next_frame(frames)
        if kind == "end":
            return
        yield from payload[0]


# --- the child side ----------------------------------------------------------------------


def _serve(path: Path, max_columns: int, out) -> None:
    def send(*frame) -> None:
        out.write(json.dumps(frame).encode() + b"\n")

    try:
        with read_in_process(path, max_columns) as sheet:
            send("sheet", sheet.header, sheet.estimated_rows)
            batch, chars = [], 0
            for row in sheet.rows:
                batch.append(row)
                chars += sum(map(len, row[1]))
                if len(batch) == _FRAME_ROWS or chars > _FRAME_CHARS:
                    send("rows", batch)
                    batch, chars = [], 0
            send("rows", batch)
        send("end")
    except WorkbookError as exc:
        send("error", str(exc))
    except BrokenPipeError:
        return  # the importer stopped reading: nothing left to do
    out.flush()


if __name__ == "__main__":
    with suppress(BrokenPipeError):
        _serve(Path(sys.argv[1]), int(sys.argv[2]), sys.stdout.buffer)
