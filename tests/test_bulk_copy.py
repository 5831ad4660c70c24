"""COPY of bulk rows keeps every value as it was, line breaks of any kind included."""

import pytest
from django.db import connection

from common.bulk_copy import copy_rows

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

VALUES = ["a\rb", "a\nb", "a\r\nb", 'say "hi", twice', "", "\\N", "plain"]


def test_values_come_back_as_written():
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE copied (n int, text_value text, maybe int)")
        copy_rows(
            cursor.cursor,
            "COPY copied (n, text_value, maybe) FROM STDIN WITH "
            "(FORMAT csv, FORCE_NOT_NULL (text_value))",
            ([n, value, None if n % 2 else n] for n, value in enumerate(VALUES)),
        )
        cursor.execute("SELECT text_value, maybe FROM copied ORDER BY n")
        assert cursor.fetchall() == [
            (value, None if n % 2 else n) for n, value in enumerate(VALUES)
        ]
