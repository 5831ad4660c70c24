"""Cells we write into files that people open in spreadsheets (CSV and XLSX exports,
the import's error file).

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in some programs, a
tab or carriage return) as a formula: a lead named `=HYPERLINK(...)` would run in the sales
team's Excel. Such cells are written with a leading `'`, which spreadsheets show as text,
and read back without it (an export or the error file imports back unchanged).
"""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value as it should be written to a spreadsheet cell (non-strings pass unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def cell_text(value: str) -> str:
    """A text cell read from a spreadsheet: the inverse of `safe_cell` (a `'` before a
    formula trigger is the text marker, not data)."""
    if value[:1] == "'" and value[1:2] and value[1] in FORMULA_TRIGGERS:
        return value[1:]
    return value
