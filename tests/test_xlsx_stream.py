"""The streamed XLSX workbook: readable by spreadsheet software (openpyxl here), every value
kept, split into sheets at the row limit, and its bytes leaving while rows are still coming."""

import io
from decimal import Decimal

from openpyxl import load_workbook

from common.xlsx import xlsx_stream


def _workbook(chunks):
    return load_workbook(io.BytesIO(b"".join(chunks)))


def test_values_come_back_as_written():
    rows = [
        ["Ada & <Co>", 12, Decimal("1200.50"), True, None, "  spaced  "],
        ["tab\there\nnew line", -3, 0.25, False, "", "bell\x07 gone"],
    ]
    sheet = _workbook(xlsx_stream(["a", "b", "c", "d", "e", "f"], rows, sheet_name="Leads"))[
        "Leads"
    ]
    assert list(sheet.iter_rows(values_only=True)) == [
        ("a", "b", "c", "d", "e", "f"),
        ("Ada & <Co>", 12, 1200.5, True, None, "  spaced  "),
        # A character XML cannot carry is written in the format's own escape, which
        # spreadsheet software and the import decode (openpyxl leaves it as written).
        ("tab\there\nnew line", -3, 0.25, False, None, "bell_x0007_ gone"),
    ]


def test_rows_beyond_a_sheet_continue_on_the_next_with_the_header():
    book = _workbook(xlsx_stream(["n"], ([n] for n in range(5)), sheet_name="S", sheet_rows=3))
    assert book.sheetnames == ["S", "S 2", "S 3"]
    assert [list(book[name].iter_rows(values_only=True)) for name in book.sheetnames] == [
        [("n",), (0,), (1,)],
        [("n",), (2,), (3,)],
        [("n",), (4,)],
    ]


def test_no_rows_is_a_sheet_with_the_header():
    book = _workbook(xlsx_stream(["first_name", "last_name"], [], sheet_name="Leads"))
    assert list(book["Leads"].iter_rows(values_only=True)) == [("first_name", "last_name")]


def test_the_first_bytes_leave_long_before_the_last_row_is_read():
    consumed = 0

    def rows():
        nonlocal consumed
        for n in range(20_000):
            consumed += 1
            yield [f"Lead {n}", n, f"lead{n}@example.com"]

    stream = xlsx_stream(["name", "n", "email"], rows(), chunk_bytes=4096)
    first = next(chunk for chunk in stream if chunk)
    assert first.startswith(b"PK")
    assert consumed < 1000, consumed
    rest = b"".join(stream)
    assert consumed == 20_000
    sheet = _workbook([first, rest]).active
    assert sheet.max_row == 20_001 and sheet.cell(20_001, 1).value == "Lead 19999"


def test_carriage_returns_and_escape_look_alikes_come_back_as_written():
    # XML turns a bare carriage return into a line feed unless it is a character
    # reference; `_x0041_` is the workbook format's own escape (it would read as "A").
    # The import's reader decodes that escape, as spreadsheet software does (openpyxl
    # leaves it as written).
    from leads.imports.xlsx_reader import cell_text

    rows = [["line\r\nbreak", "lone\rreturn", "_x0041_ and _X000d_ and _x000D_", "_x00_\x0b"]]
    sheet = _workbook(xlsx_stream(["a", "b", "c", "d"], rows, sheet_name="S"))["S"]
    read = [cell_text(value) for value in list(sheet.iter_rows(values_only=True))[1]]
    assert read == rows[0]


def test_the_import_decodes_the_workbook_formats_escapes_as_spreadsheets_do():
    from leads.imports.xlsx_reader import cell_text

    assert cell_text("a_x000D_b") == "a\rb"  # how Excel writes a carriage return
    assert cell_text("_x005F_x0041_") == "_x0041_"
    assert cell_text("_x0000_ and _xD800_ stay") == "_x0000_ and _xD800_ stay"
    assert cell_text("plain_x_text") == "plain_x_text"


def test_long_text_is_cut_at_the_limit_in_utf16_units_never_inside_a_character():
    from common.xlsx import MAX_CELL_CHARS

    emoji = "\U0001f600"  # two UTF-16 units, as spreadsheets count
    rows = [["a" * (MAX_CELL_CHARS + 10)], [emoji * MAX_CELL_CHARS], ["b" + emoji * 20_000]]
    sheet = _workbook(xlsx_stream(["text"], rows, sheet_name="S"))["S"]
    plain, emojis, odd = (row[0] for row in list(sheet.iter_rows(values_only=True))[1:])
    assert plain == "a" * MAX_CELL_CHARS
    assert emojis == emoji * (MAX_CELL_CHARS // 2)
    assert odd == "b" + emoji * ((MAX_CELL_CHARS - 1) // 2)
