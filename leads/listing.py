"""How the lead list walks large organizations: the fixed sort orders, the keyset cursor
that continues a list from where a page ended, and the capped counts.

Offsets make PostgreSQL read and discard every row before the page; a cursor starts
from the last row shown (an index seek), so page 50,000 costs what page 1 costs. Every
order ends with the id, so rows with the same sort value keep one stable order and a walk
neither repeats nor skips a lead while others are inserted.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection
from django.db.models import BooleanField, F, Func, QuerySet, Value
from django.db.models.expressions import Col
from django.db.models.functions import Coalesce

from leads.models import Lead

#: The orders a client may ask for; each is backed by an index that ends with the id.
ORDERINGS = (
    "-created_on",
    "created_on",
    "first_name",
    "-first_name",
    "last_name",
    "-last_name",
    "opportunity_amount",
    "-opportunity_amount",
)
DEFAULT_ORDERING = "-created_on"

#: Counts are exact up to this many leads; beyond it the answer says "at least" this many
#: (`counts_exact: false`) instead of counting a million rows on every page.
COUNT_EXACT_LIMIT = 10_000

#: A lead without an amount sorts as if its amount were this (amounts are never negative),
#: so the keyset comparison never meets a NULL.
NO_AMOUNT = Decimal("-1")


def sort_key(field: str):
    """The expression a list is ordered by for `field` (without its direction)."""
    if field == "opportunity_amount":
        return Coalesce(F("opportunity_amount"), Value(NO_AMOUNT))
    return F(field)


class RowCompare(Func):
    """`(a, b) < (x, y)`: a row-value comparison, which PostgreSQL answers with one index
    seek on an index of (a, b). SQLite understands it too."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, left, right, operator: str):
        self.operator = operator
        self.width = len(left)
        super().__init__(*left, *right)

    def as_sql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, expression_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(expression_params)
        left, right = parts[: self.width], parts[self.width :]
        return f"({', '.join(left)}) {self.operator} ({', '.join(right)})", params


def ordered(queryset: QuerySet, ordering: str) -> QuerySet:
    field = ordering.lstrip("-")
    key = sort_key(field)
    if ordering.startswith("-"):
        return queryset.order_by(key.desc(), F("pk").desc())
    return queryset.order_by(key.asc(), F("pk").asc())


def after(queryset: QuerySet, ordering: str, position: list) -> QuerySet:
    """The rows that come after `position` (the sort value and id of a row) in `ordering`."""
    field = ordering.lstrip("-")
    value, pk = position
    target = Lead._meta.get_field(field)
    operator = "<" if ordering.startswith("-") else ">"
    return queryset.filter(
        RowCompare(
            [sort_key(field), F("pk")],
            [Value(value, output_field=target), Value(pk, output_field=Lead._meta.pk)],
            operator,
        )
    )


def position_of(lead: Lead, ordering: str) -> list:
    field = ordering.lstrip("-")
    value = getattr(lead, field)
    if field == "opportunity_amount" and value is None:
        value = NO_AMOUNT
    return [value, lead.pk]


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    """Where each of the two lists (open, closed) goes on; None for a list that ended."""

    ordering: str
    open: list | None
    closed: list | None

    def encode(self) -> str:
        payload = {
            "o": self.ordering,
            "a": _dump(self.open, self.ordering),
            "c": _dump(self.closed, self.ordering),
        }
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            payload = json.loads(raw)
            ordering = payload["o"]
            if ordering not in ORDERINGS:
                raise InvalidCursor("unknown ordering")
            return cls(
                ordering=ordering,
                open=_load(payload["a"], ordering),
                closed=_load(payload["c"], ordering),
            )
        except (
            binascii.Error,
            ValueError,
            TypeError,
            KeyError,
            InvalidOperation,
            OverflowError,
        ) as error:
            raise InvalidCursor(str(error)) from None


def _dump(position, ordering):
    if position is None:
        return None
    value, pk = position
    if isinstance(value, datetime):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    return [value, str(pk)]


def _load(position, ordering):
    if position is None:
        return None
    if not isinstance(position, list) or len(position) != 2:
        raise InvalidCursor("malformed position")
    value, pk = position
    field = ordering.lstrip("-")
    if not isinstance(value, str):
        raise InvalidCursor("malformed value")
    if field == "created_on":
        value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            raise InvalidCursor("naive time")
        value = value.astimezone(UTC)  # PostgreSQL takes offsets up to 15:59 only
    elif field == "opportunity_amount":
        value = Decimal(value)
        if not value.is_finite():
            raise InvalidCursor("amount")
        if value != NO_AMOUNT:
            _validate(field, value)  # within the column's digits
    else:
        if "\x00" in value:
            raise InvalidCursor("NUL character")
        value.encode()  # a lone surrogate cannot be sent to the database
        _validate(field, value)  # within the column's length
    return [value, uuid.UUID(str(pk))]


def _validate(field: str, value) -> None:
    try:
        Lead._meta.get_field(field).run_validators(value)
    except ValidationError as error:
        raise InvalidCursor(field) from error


def _capped(parts) -> QuerySet:
    # A constant, not the id: a part answered by an index without the id (a USER member's
    # own leads by status) is then counted from the index alone.
    return _first_rows_of_union([part.annotate(one=Value(1)).values("one") for part in parts])


def _first_rows_of_union(querysets) -> QuerySet:
    """Up to COUNT_EXACT_LIMIT + 1 rows of the querysets one after the other (UNION ALL)."""
    first, *others = [queryset.order_by() for queryset in querysets]
    combined = first.union(*others, all=True) if others else first
    return combined[: COUNT_EXACT_LIMIT + 1]


def capped_counts(*groups) -> list[tuple[int, bool]]:
    """(count, exact) of the union of each group of disjoint querysets, all in one query
    (one scalar subquery each): exact up to COUNT_EXACT_LIMIT, else (COUNT_EXACT_LIMIT,
    False), meaning "more than that many". Reads at most COUNT_EXACT_LIMIT + 1 rows per
    group, taking its parts in turn."""
    counts, params = [], []
    for n, parts in enumerate(groups):
        try:
            sql, part_params = compiled(_capped(parts))
        except EmptyResultSet:  # a filter that cannot match (`pk__in=[]`)
            counts.append("0")
            continue
        counts.append(f"(SELECT COUNT(*) FROM ({sql}) capped_{n})")  # noqa: S608 - compiled SQL
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(counts)}", params)
        row = cursor.fetchone()
    return [
        (COUNT_EXACT_LIMIT, False) if counted > COUNT_EXACT_LIMIT else (counted, True)
        for counted in row
    ]


#: Filters whose candidates PostgreSQL reads row by row whatever the plan (a trigram match
#: is rechecked on the lead's row) when they test their pattern lead by lead: their lists
#: are then counted and paged from one read of the matching rows (`counted_lists`). The
#: other filters' counts, and these filters' when answered by exact values from an index,
#: read no more than they must (an index alone, for most), so they keep `capped_counts`.
ROW_CHECKED_FILTERS = frozenset({"q", "name", "title", "city", "email"})


@dataclass(frozen=True)
class CountedList:
    count: int
    exact: bool
    #: The page's positions ([sort value, id]) in order, read with the count; None when
    #: the count is not exact (the rows read are then not all the list's) or no page was
    #: asked for.
    page: list | None


@dataclass(frozen=True)
class PageWanted:
    position: list | None  # a cursor's position in this list, or None for `offset`
    offset: int
    limit: int


def counted_lists(groups, *, ordering: str, pages: list) -> list[CountedList]:
    """For each group of disjoint querysets (one list, as `capped_counts` takes them), its
    capped count and, when that count is exact, the ids of the page `pages[n]` (a
    PageWanted, or None), all in one statement.

    Each list's matching rows are read once, with their sort value, up to
    COUNT_EXACT_LIMIT + 1 of them (`WITH matched_n AS (...)`); the count and the page are
    both taken from them. When the count is exact every match was read, so the page is the
    one the list's own query would give; otherwise the caller reads the page itself. A
    filter whose every candidate is checked on its row then reads its candidates once
    instead of twice (once for the count, once for the page)."""
    ctes, selects, params, select_params = [], [], [], []
    for n, parts in enumerate(groups):
        try:
            sql, part_params = compiled(_matched(parts, ordering))
        except EmptyResultSet:  # a filter that cannot match (`pk__in=[]`): nothing to read
            continue
        ctes.append(f"matched_{n} (id, list_k) AS ({sql})")
        params.extend(part_params)
        # Typed NULLs: the columns of UNION ALL take their types from every branch.
        selects.append(
            f"SELECT {n}, CAST(NULL AS uuid), (SELECT COUNT(*) FROM matched_{n}), "  # noqa: S608 - numbers only
            f"(SELECT list_k FROM matched_{n} WHERE 1 = 0)"
        )
        if pages[n] is not None:
            page_sql, page_params = _page_of_matched(n, pages[n], ordering)
            selects.append(page_sql)
            select_params.extend(page_params)
    counts: dict[int, int] = dict.fromkeys(range(len(groups)), 0)
    positions: dict[int, list] = {n: [] for n, wanted in enumerate(pages) if wanted is not None}
    sort_value = _sort_value_from_db(ordering)
    if ctes:
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH {', '.join(ctes)} {' UNION ALL '.join(selects)}",
                [*params, *select_params],
            )
            for n, pk, counted, value in cursor.fetchall():
                if pk is None:
                    counts[n] = counted
                else:
                    positions[n].append([sort_value(value), uuid_value(pk)])
    return [
        CountedList(count=counts[n], exact=True, page=positions.get(n))
        if counts[n] <= COUNT_EXACT_LIMIT
        else CountedList(count=COUNT_EXACT_LIMIT, exact=False, page=None)
        for n in range(len(groups))
    ]


def _sort_value_from_db(ordering: str):
    """The function that turns a sort value read by raw SQL into the Python value a
    model's field holds (SQLite answers text for a time, a float for an amount)."""
    field = Lead._meta.get_field(ordering.lstrip("-"))
    column = Col(Lead._meta.db_table, field)
    converters = [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]

    def convert(value):
        for converter in converters:
            value = converter(value, column, connection)
        if field.name == "opportunity_amount":
            value = Decimal(value)  # the NO_AMOUNT stand-in is no stored value
        return value

    return convert


def _matched(parts, ordering: str) -> QuerySet:
    """The (id, sort value) of up to COUNT_EXACT_LIMIT + 1 rows of the parts' union."""
    key = sort_key(ordering.lstrip("-"))
    return _first_rows_of_union(
        [part.annotate(list_k=key).values_list("pk", "list_k") for part in parts]
    )


def _page_of_matched(n: int, wanted: PageWanted, ordering: str) -> tuple[str, list]:
    """The ids of one page of `matched_n`, in the list's order: after the cursor's
    position (as `after` compares it), or from the offset."""
    field = ordering.lstrip("-")
    direction = "DESC" if ordering.startswith("-") else "ASC"
    where, params = "", []
    if wanted.position is not None:
        value, pk = wanted.position
        value_sql = "CAST(%s AS NUMERIC)" if field == "opportunity_amount" else "%s"
        operator = "<" if direction == "DESC" else ">"
        where = f"WHERE (list_k, id) {operator} ({value_sql}, %s)"
        params = [
            Lead._meta.get_field(field).get_db_prep_value(value, connection),
            Lead._meta.pk.get_db_prep_value(pk, connection),
        ]
    # A capped count's page is read by the list's own query (counted_lists): not sorted here.
    where = f"{where} {'AND' if where else 'WHERE'} (SELECT COUNT(*) FROM matched_{n}) <= %s"  # noqa: S608 - numbers only
    params.append(COUNT_EXACT_LIMIT)
    offset = 0 if wanted.position is not None else wanted.offset
    sql = (
        f"SELECT * FROM (SELECT {n}, id, CAST(NULL AS bigint), list_k FROM matched_{n} {where} "  # noqa: S608 - compiled pieces
        f"ORDER BY list_k {direction}, id {direction} LIMIT %s OFFSET %s) page_{n}"
    )
    return sql, [*params, wanted.limit, offset]


def uuid_value(value) -> uuid.UUID:
    """A UUID read by raw SQL: PostgreSQL answers UUIDs, SQLite their 32 hex digits."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def compiled(queryset: QuerySet) -> tuple[str, tuple]:
    """The SQL and parameters of a queryset, for a statement that combines several.
    Organization-owned querysets must be scoped, as when they run themselves."""
    require_scope = getattr(queryset, "_require_scope", None)
    if require_scope is not None:
        require_scope()
    return queryset.query.sql_with_params()


def union_all(parts: list) -> tuple[str, list] | None:
    """One statement that returns the rows of each part (a queryset, which may be ordered
    and sliced, or an (sql, params) pair), one after the other:
    `SELECT * FROM (q1) UNION ALL SELECT * FROM (q2)...`. Each part is a subquery of its
    own, so its ORDER BY and LIMIT hold on PostgreSQL and SQLite alike, and its rows come
    out in its order. The parts select the same number of columns, of matching types.
    A part that cannot match (`pk__in=[]`) is left out; None when none is left."""
    sql, params = [], []
    for n, part in enumerate(parts):
        try:
            part_sql, part_params = part if isinstance(part, tuple) else compiled(part)
        except EmptyResultSet:
            continue
        sql.append(f"SELECT * FROM ({part_sql}) part_{n}")  # noqa: S608 - compiled SQL
        params.extend(part_params)
    return (" UNION ALL ".join(sql), params) if sql else None
