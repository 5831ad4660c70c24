"""An XLSX workbook written as a stream: its bytes leave as the rows come.

Spreadsheet libraries (openpyxl, XlsxWriter) assemble the workbook's zip only when it is
closed, so a client asking for a million rows waits minutes for the first byte, and
proxies and HTTP clients give up long before (nginx's read timeout is 60 s). Here each
worksheet is written as SpreadsheetML straight into a zip entry that is compressed and
handed on as it grows (Python's zipfile writes to a stream that cannot seek, with data
descriptors), and the small parts that list the sheets follow at the end, where their
count is known; readers find every part through the zip's central directory, written
last. Text cells are inline strings, so nothing is kept per distinct value.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from xml.sax.saxutils import escape

#: Rows per worksheet, the header included (Excel's limit).
MAX_SHEET_ROWS = 1_048_576
#: Characters a cell may hold (Excel's limit, in UTF-16 units: a character beyond the
#: Basic Multilingual Plane, an emoji say, counts two); longer text is cut.
MAX_CELL_CHARS = 32_767

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Characters XML 1.0 cannot carry at all (tab, line feed and carriage return it can).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The workbook format's own escape, `_xHHHH_` for a character: text that looks like one is
# written with its underscore escaped (`_x005F_`), or a reader would decode it.
_ESCAPE_LOOK_ALIKE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


class _Pipe:
    """The zip's file: collects what zipfile writes until the stream takes it. No `tell`
    or `seek`, so zipfile writes sizes after each entry instead of going back for them."""

    def __init__(self):
        self._chunks: list[bytes] = []

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _cell(reference: str, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{reference}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f'<c r="{reference}"><v>{value}</v></c>'
    text = _ESCAPE_LOOK_ALIKE.sub("_x005F_", _cut(str(value)))
    # Characters XML cannot carry, in the format's escape (as Excel writes them).
    text = _NOT_XML.sub(lambda match: f"_x{ord(match.group()):04X}_", text)
    # A carriage return as a character reference: XML readers turn a bare one into "\n".
    text = escape(text, {"\r": "&#13;"})
    return f'<c r="{reference}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _cut(text: str) -> str:
    """At most MAX_CELL_CHARS UTF-16 units, never half a character."""
    if len(text) <= MAX_CELL_CHARS // 2:  # within the limit even if every one counts two
        return text
    units = text.encode("utf-16-le")
    if len(units) <= 2 * MAX_CELL_CHARS:
        return text
    return units[: 2 * MAX_CELL_CHARS].decode("utf-16-le", errors="ignore")


def _rows_xml(rows: Iterable[list], first: int, columns: list[str]) -> Iterator[str]:
    for number, row in enumerate(rows, start=first):
        cells = "".join(
            _cell(f"{columns[index]}{number}", value) for index, value in enumerate(row)
        )
        yield f'<row r="{number}">{cells}</row>'


def xlsx_stream(
    header: list[str],
    rows: Iterable[list],
    *,
    sheet_name: str = "Sheet",
    sheet_rows: int = MAX_SHEET_ROWS,
    chunk_bytes: int = 1 << 16,
) -> Iterator[bytes]:
    """The workbook's bytes, in pieces of about `chunk_bytes`: `header` then `rows` (lists of
    text, numbers, booleans or None), on as many sheets of `sheet_rows` rows (header
    included) as they need, named `sheet_name`, `sheet_name 2`, ..."""
    out = _Pipe()
    columns = [_column(index) for index in range(len(header))]
    rows = iter(rows)
    sheets = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        while True:
            first = next(rows, None)
            if first is None and sheets:
                break
            sheets += 1
            with archive.open(f"xl/worksheets/sheet{sheets}.xml", "w", force_zip64=True) as sheet:
                pending = [f'{_XML}<worksheet xmlns="{_MAIN}"><sheetData>']
                pending += _rows_xml([header], 1, columns)
                size = 0
                if first is not None:
                    body = _rows_xml(_take(first, rows, sheet_rows - 2), 2, columns)
                    for line in body:
                        pending.append(line)
                        size += len(line)
                        if size >= chunk_bytes:
                            sheet.write("".join(pending).encode())
                            pending, size = [], 0
                            yield out.take()
                pending.append("</sheetData></worksheet>")
                sheet.write("".join(pending).encode())
            yield out.take()
            if first is None:
                break
        _write_parts(archive, sheet_name, sheets)
    yield out.take()


def _take(first, rows: Iterator, more: int) -> Iterator:
    """`first`, then at most `more` further rows of `rows`."""
    yield first
    for _ in range(more):
        row = next(rows, None)
        if row is None:
            return
        yield row


def _write_parts(archive: zipfile.ZipFile, sheet_name: str, sheets: int) -> None:
    numbers = range(1, sheets + 1)
    names = [sheet_name if n == 1 else f"{sheet_name} {n}" for n in numbers]
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    archive.writestr(
        "[Content_Types].xml",
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{sheet_type}"/>'
            for n in numbers
        )
        + "</Types>",
    )
    archive.writestr(
        "_rels/.rels",
        f'{_XML}<Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
        f'Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    )
    archive.writestr(
        "xl/workbook.xml",
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><sheets>'
        + "".join(
            f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{n}" r:id="rId{n}"/>'
            for n, name in zip(numbers, names, strict=True)
        )
        + "</sheets></workbook>",
    )
    archive.writestr(
        "xl/_rels/workbook.xml.rels",
        f'{_XML}<Relationships xmlns="{_RELS}">'
        + "".join(
            f'<Relationship Id="rId{n}" Type="{_DOC_RELS}/worksheet" '
            f'Target="worksheets/sheet{n}.xml"/>'
            for n in numbers
        )
        + f'<Relationship Id="rId{sheets + 1}" Type="{_DOC_RELS}/styles" Target="styles.xml"/>'
        "</Relationships>",
    )
    archive.writestr("xl/styles.xml", _STYLES)
