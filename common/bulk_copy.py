"""Rows into PostgreSQL with COPY ... FROM STDIN (FORMAT csv): several times cheaper than
a multi-row INSERT for the bulk writes (an import chunk, its change-log events)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable


def copy_rows(cursor, sql: str, rows: Iterable) -> None:
    """Send `rows` (sequences of values; None or '' is an empty field) to a `COPY ... FROM
    STDIN WITH (FORMAT csv ...)` statement on a psycopg2 cursor."""
    buffer = io.StringIO()
    # Lines end in "\r\n" so that the writer quotes a value holding a bare carriage return
    # (it quotes only the line end's characters), which COPY would read as a line's end.
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    size = buffer.tell()
    buffer.seek(0)
    # One read of the whole buffer: psycopg2 takes the GIL back for every block it reads.
    cursor.copy_expert(sql, buffer, size=max(size, 8192))
