"""Reads on leads. Every function takes the caller's membership, so role rules live here once."""

import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Lower

from accounts.models import Contact
from accounts.selectors import contacts_visible_to
from common.models import Membership, Organization, Tag, Team, User, active_member
from leads.choices import OPEN_STATUSES, LeadSource, LeadStatus
from leads.listing import (
    ROW_CHECKED_FILTERS,
    Cursor,
    PageWanted,
    after,
    capped_counts,
    counted_lists,
    ordered,
    position_of,
    union_all,
    uuid_value,
)
from leads.models import Attachment, Comment, Lead, LeadTally, TallyKind

logger = logging.getLogger(__name__)

#: Upper bound of each picker catalogue in the list response (contacts, users, tags, sources).
CATALOGUE_LIMIT = 100
LIST_LIMIT_DEFAULT = 10
LIST_LIMIT_MAX = 100


def leads_visible_to(*, membership: Membership, queryset: QuerySet | None = None) -> QuerySet:
    """The organization's leads `membership` may see: all for ADMIN; for USER the leads
    assigned to them or created by them.

    The assignment test is a correlated EXISTS that probes the (lead, user) unique index
    once per candidate row: its cost follows the rows a page reads, not the organization's
    size (an `IN (assignees of U)` subquery turns into a per-row re-scan once the user's
    assignments outgrow PostgreSQL's work_mem)."""
    queryset = Lead.objects.for_org(membership.org_id) if queryset is None else queryset
    if membership.is_admin:
        return queryset
    # "and not created by them" (a lead without a creator compares with the zero UUID, no
    # user's id) changes nothing to the OR, but it compares the lead's own column inside
    # the EXISTS: PostgreSQL then probes per row as the page is read, where it would
    # otherwise hash every assignment of the member first (40,000 at 1M leads, 15 ms).
    assigned = Lead.assigned_to.through.objects.filter(
        lead_id=OuterRef("pk"), user_id=membership.user_id
    ).exclude(user_id=Coalesce(OuterRef("created_by_id"), Value(LeadTally.EVERYONE)))
    return queryset.filter(Q(created_by_id=membership.user_id) | Exists(assigned))


def visible_parts(*, membership: Membership, queryset: QuerySet) -> list[QuerySet]:
    """`leads_visible_to` as disjoint querysets whose union it is: for ADMIN the queryset
    itself; for USER the leads they created (an (org, created_by, status) index of their
    own) and the leads assigned to them that they did not create (from the link table).
    Counting the parts one after the other reads the member's leads, where the OR of
    `leads_visible_to` tests every lead of the organization in turn until enough match."""
    if membership.is_admin:
        return [queryset]
    user_id = membership.user_id
    assigned = Lead.assigned_to.through.objects.filter(lead_id=OuterRef("pk"), user_id=user_id)
    return [
        queryset.filter(created_by_id=user_id),
        queryset.filter(Exists(assigned)).exclude(created_by_id=user_id),
    ]


def comments_visible_to(*, membership: Membership, queryset: QuerySet) -> QuerySet:
    """Comments on leads the member can see."""
    if membership.is_admin:
        return queryset
    return queryset.filter(lead__in=leads_visible_to(membership=membership).values("pk"))


def attachments_visible_to(*, membership: Membership, queryset: QuerySet) -> QuerySet:
    """Attachments of leads the member can see."""
    if membership.is_admin:
        return queryset
    return queryset.filter(lead__in=leads_visible_to(membership=membership).values("pk"))


def comment_changeable_by(*, membership: Membership, comment: Comment) -> bool:
    """Its author or an ADMIN may edit or delete a comment."""
    return membership.is_admin or comment.commented_by_id == membership.user_id


def attachment_deletable_by(*, membership: Membership, attachment: Attachment) -> bool:
    """Its uploader or an ADMIN may delete an attachment."""
    return membership.is_admin or attachment.created_by_id == membership.user_id


def active_members(*, org) -> QuerySet:
    """Users who are active members of `org` (assignable, mentionable)."""
    return User.objects.filter(active_member(via_user=True), memberships__org=org).order_by(
        "first_name", "last_name", "email"
    )


@dataclass(frozen=True)
class LeadListPage:
    open_leads: list
    closed_leads: list
    open_leads_count: int
    closed_leads_count: int
    counts_exact: bool
    next_cursor: str | None
    contacts: list
    users: list
    source_list: list[str]
    tags: list[str]
    status: list[str]


def lead_list(
    *,
    membership: Membership,
    filtered: QuerySet,
    limit: int,
    offset: int = 0,
    ordering: str = "-created_on",
    cursor: Cursor | None = None,
    filters: dict | None = None,
    rows_checked: frozenset[str] | set[str] = frozenset(),
) -> LeadListPage:
    """Both pages (open and closed) of an already filtered queryset of the organization's
    leads (the member's visibility is applied here), their totals, and the picker
    catalogues. The number of queries does not depend on the page size, and no query reads
    more than a page, a capped count, or a catalogue's bounded index range.

    `filters` are the list filters (name: value) that narrowed `filtered`: when a tally
    answers them (see `tallied_counts`), the totals are exact at any size; otherwise they
    are counted, exact up to COUNT_EXACT_LIMIT. `rows_checked` names the filters that
    tested each lead's row (leads.filters.LeadFilterSet.rows_checked): their pages come
    from the same read as their counts (`leads.listing.counted_lists`)."""
    # The open list by its statuses (not "neither closed nor converted"): the trigram
    # indexes of open leads are partial on that list.
    is_open, is_closed = Q(status__in=OPEN_STATUSES), Q(status=LeadStatus.CLOSED)
    visible = leads_visible_to(membership=membership, queryset=filtered)
    lists = [visible.filter(is_open), visible.filter(is_closed)]
    positions = [cursor.open, cursor.closed] if cursor else [None, None]
    # A list a cursor has finished gets no page; neither list does with `limit=0`.
    wanted = [
        PageWanted(position=position, offset=offset, limit=limit)
        if limit and (cursor is None or position is not None)
        else None
        for position in positions
    ]
    read_with_counts: list = [None, None]  # a page's positions, read with its count
    filters = filters or {}
    tallied = tallied_counts(membership=membership, filters=filters)
    if tallied is not None:
        counts = [(tallied[0], True), (tallied[1], True)]
    else:
        parts = visible_parts(membership=membership, queryset=filtered)
        groups = [
            [part.filter(is_open) for part in parts],
            [part.filter(is_closed) for part in parts],
        ]
        if ROW_CHECKED_FILTERS.intersection(rows_checked):
            listed = counted_lists(groups, ordering=ordering, pages=wanted)
            counts = [(each.count, each.exact) for each in listed]
            read_with_counts = [each.page for each in listed]
        else:
            counts = capped_counts(*groups)

    def page(n):
        if wanted[n] is None:
            return None
        if read_with_counts[n] is not None:  # the rows of the ids read with the count
            return lists[n].filter(pk__in=[pk for _value, pk in read_with_counts[n]])
        queryset = ordered(lists[n], ordering)
        if positions[n] is not None:
            return after(queryset, ordering, positions[n])[:limit]
        return queryset[offset : offset + limit]

    pages = _read_pages([page(0), page(1)])
    for n, positions_read in enumerate(read_with_counts):
        if positions_read is None:
            continue
        order = {pk: index for index, (_value, pk) in enumerate(positions_read)}
        if {lead.pk for lead in pages[n]} == set(order):
            pages[n].sort(key=lambda lead: order[lead.pk])
        else:
            # A lead of the page changed list or stopped matching since its count was read:
            # the page is read again by the list's own query (the counts stand).
            read_with_counts[n] = None
            pages[n] = _read_pages([page(n) if k == n else None for k in (0, 1)])[n]
    open_leads, closed_leads = pages
    rows = open_leads + closed_leads
    (open_count, open_exact), (closed_count, closed_exact) = counts
    _attach_links(rows)
    catalogues = _catalogues(membership=membership)
    return LeadListPage(
        open_leads=open_leads,
        closed_leads=closed_leads,
        open_leads_count=open_count,
        closed_leads_count=closed_count,
        counts_exact=open_exact and closed_exact,
        next_cursor=_next_cursor(pages, read_with_counts, limit, ordering),
        contacts=catalogues["contacts"],
        users=catalogues["users"],
        source_list=[*LeadSource.values, *catalogues["sources"]],
        tags=catalogues["tags"],
        status=list(LeadStatus.values),
    )


def _attach_links(leads: list[Lead]) -> None:
    """The assignees' ids and tags' names of `leads`, in one query (a prefetch per
    relation would be two, and build a related queryset per lead), as
    `lead.listed_assignee_ids` and `lead.listed_tag_names` (tags by name)."""
    for lead in leads:
        lead.listed_assignee_ids, lead.listed_tag_names = [], []
    if not leads:
        return
    # Plain SQL: the statement is the same for every page but for its number of ids, and
    # building it through the ORM cost more than running it.
    prep = Lead._meta.pk.get_db_prep_value
    ids = [prep(lead.pk, connection) for lead in leads]
    sql = _LINKS_SQL.replace("<ids>", ", ".join(["%s"] * len(ids)))  # placeholders only
    by_id = {lead.pk: lead for lead in leads}
    with connection.cursor() as cursor:
        cursor.execute(sql, ids + ids)
        for lead_id, kind, pk, name in cursor.fetchall():
            lead = by_id[uuid_value(lead_id)]
            if kind == "a":
                lead.listed_assignee_ids.append(uuid_value(pk))
            else:
                lead.listed_tag_names.append(name)


def _catalogues(*, membership: Membership) -> dict:
    """The pickers of the list (contacts, users, sources, tags), each bounded, in one
    query: the rows of each catalogue come one after the other, each in its order."""
    org = membership.org
    empty = Value("")

    def rows(queryset, kind, pk, first, last, email, phone):
        return queryset.annotate(
            c_kind=Value(kind), c_id=pk, c_first=first, c_last=last, c_email=email, c_phone=phone
        ).values_list("c_kind", "c_id", "c_first", "c_last", "c_email", "c_phone")

    contacts = rows(
        contacts_visible_to(membership=membership).order_by("-created_on"),
        "c",
        F("id"),
        F("first_name"),
        F("last_name"),
        F("email"),
        F("phone"),
    )[:CATALOGUE_LIMIT]
    users = rows(
        active_members(org=org), "u", F("id"), F("first_name"), F("last_name"), F("email"), empty
    )[:CATALOGUE_LIMIT]
    org_id = Organization._meta.pk.get_db_prep_value(org.pk, connection)
    tags = (_TAGS_SQL, [org_id, CATALOGUE_LIMIT])
    sources = (_SOURCES_SQL, [org_id, org_id, CATALOGUE_LIMIT + len(LeadSource.values)])
    found: dict = {"contacts": [], "users": [], "tags": [], "sources": []}
    with connection.cursor() as cursor:
        cursor.execute(*union_all([contacts, users, tags, sources]))
        for kind, pk, first, last, email, phone in cursor.fetchall():
            if kind == "c":
                found["contacts"].append(
                    Contact(
                        pk=uuid_value(pk),
                        first_name=first,
                        last_name=last,
                        email=email,
                        phone=phone,
                    )
                )
            elif kind == "u":
                found["users"].append(
                    User(pk=uuid_value(pk), first_name=first, last_name=last, email=email)
                )
            elif kind == "t":
                found["tags"].append(first)
            else:
                found["sources"].append(first)
    common = set(LeadSource.values)
    found["sources"] = [s for s in found["sources"] if s not in common][:CATALOGUE_LIMIT]
    return found


def tallied_counts(*, membership: Membership, filters: dict) -> tuple[int, int] | None:
    """(open, closed) leads `membership` sees with `filters` (valid values), from the
    tallies (leads.models.LeadTally) when one answers them, else None. A tally answers the
    lists without a filter (the organization's for ADMIN, the member's own for USER), and
    an ADMIN's lists by one assignee or one tag; `status` narrows any of them. One read of
    a few rows, whatever the organization's size."""
    narrowing = {name: value for name, value in filters.items() if name != "status"}
    tallies = LeadTally.objects.for_org(membership.org_id)
    if not narrowing:
        if membership.is_admin:
            tallies = tallies.filter(kind=TallyKind.ALL, subject=LeadTally.EVERYONE)
        else:
            tallies = tallies.filter(kind=TallyKind.MEMBER, subject=membership.user_id)
    elif not membership.is_admin:
        return None
    elif list(narrowing) == ["assigned_to"]:
        tallies = tallies.filter(kind=TallyKind.ASSIGNEE, subject=narrowing["assigned_to"])
    elif list(narrowing) == ["tags"] and "," not in narrowing["tags"]:
        # Tag names are unique in an organization whatever their case: at most one id,
        # matched as the filter matches it (leads.filters.LeadFilterSet.filter_tags).
        tag = (
            Tag.objects.for_org(membership.org_id)
            .annotate(lname=Lower("name"))
            .filter(lname=narrowing["tags"].strip().lower())
        )
        tallies = tallies.filter(kind=TallyKind.TAG, subject__in=tag.values("pk"))
    else:
        return None
    totals = dict(
        tallies.values_list("status").annotate(total=Sum("n")).values_list("status", "total")
    )
    if "status" in filters:
        totals = {filters["status"]: totals.get(filters["status"], 0)}
    closed = totals.pop(LeadStatus.CLOSED, 0)
    totals.pop(LeadStatus.CONVERTED, None)
    return sum(totals.values()), closed


def _read_pages(queries: list) -> list[list[Lead]]:
    """The open and the closed page (each a queryset or None) in one statement; each keeps
    its order, and the status tells them apart."""
    both = union_all([query for query in queries if query is not None])
    rows = list(Lead.objects.raw(*both)) if both else []
    return [
        [lead for lead in rows if lead.status != LeadStatus.CLOSED],
        [lead for lead in rows if lead.status == LeadStatus.CLOSED],
    ]


def _next_cursor(pages, read_with_counts, limit, ordering) -> str | None:
    """A full page may have more behind it; a short one ended its list. A page read with
    its count goes on from the position read then: a lead whose sort value changed since
    cannot make the next page skip the leads in between."""
    if not limit:
        return None
    positions = [
        (read[-1] if read is not None else position_of(leads[-1], ordering))
        if len(leads) == limit
        else None
        for leads, read in zip(pages, read_with_counts, strict=True)
    ]
    if positions == [None, None]:
        return None
    return Cursor(ordering=ordering, open=positions[0], closed=positions[1]).encode()


_LINKS_SQL = """
SELECT lead_id, 'a', user_id, '' FROM leads_lead_assigned_to WHERE lead_id IN (<ids>)
UNION ALL
SELECT * FROM (
    SELECT l.lead_id, 't', l.tag_id, t.name FROM leads_lead_tags l
    JOIN common_tag t ON t.id = l.tag_id WHERE l.lead_id IN (<ids>) ORDER BY t.name
) tagged
"""

_TAGS_SQL = """
SELECT 't', CAST(NULL AS uuid), name, '', '', '' FROM common_tag WHERE org_id = %s
ORDER BY name LIMIT %s
"""


# The distinct values of one column of one organization's leads without reading its
# leads: a loose index scan over an index that starts with (org, column), which jumps from
# each value to the next one, one index seek each, however many leads hold a value.
def _distinct_values_cte(name: str, column: str) -> str:
    return f"""{name}(v) AS (
    SELECT MIN({column}) FROM leads_lead WHERE org_id = %s AND {column} > ''
    UNION ALL
    SELECT (SELECT MIN(l.{column}) FROM leads_lead l WHERE l.org_id = %s AND l.{column} > u.v)
    FROM {name} u WHERE u.v IS NOT NULL
)"""  # noqa: S608 - column names from DISTINCT_VALUE_COLUMNS only


# The sources catalogue, in the shape of the other catalogues' rows (_catalogues).
_SOURCES_SQL = (
    f"WITH RECURSIVE {_distinct_values_cte('used', 'source')} "  # noqa: S608 - constants
    "SELECT 's', CAST(NULL AS uuid), v, '', '', '' FROM used WHERE v IS NOT NULL LIMIT %s"
)

#: The columns whose filters may be answered from the organization's distinct values,
#: each with an index that starts with (org, column) (leads.models.Lead.Meta.indexes).
DISTINCT_VALUE_COLUMNS = frozenset({"source", "city", "title", "first_name", "last_name"})

#: At most this many distinct values of a column are tested against a filter's pattern;
#: an organization with more is filtered lead by lead (leads.filters.LeadFilterSet).
DISTINCT_VALUES_TESTED_AT_MOST = 500


#: How long an organization is remembered to hold too many distinct values of a column:
#: its filters on that column then test each lead without first walking 501 values in vain
#: (about 6 ms per column at 1M leads). The other way round is never remembered: a value
#: added meanwhile must be found.
TOO_MANY_VALUES_SECONDS = 600


def values_matching(*, org, tests: list[tuple[str, str]]) -> list[list[str]] | None:
    """For each (column, part) of `tests`, the organization's distinct values of that column
    that contain `part` (any case: UPPER(...) LIKE UPPER(...), exactly what `icontains`
    runs on each lead). None when a column holds more than DISTINCT_VALUES_TESTED_AT_MOST
    distinct values. One query, one loose index scan per column."""
    org_pk = getattr(org, "pk", org)
    org_id = Organization._meta.pk.get_db_prep_value(org_pk, connection)
    columns = list(dict.fromkeys(column for column, _part in tests))
    if not set(columns) <= DISTINCT_VALUE_COLUMNS:
        raise ValueError(f"no distinct-value index for {columns}")
    too_many_keys = {f"leads:too-many-values:{org_pk}:{column}": column for column in columns}
    if _cached(lambda: cache.get_many(list(too_many_keys)), default={}):
        return None
    ctes = [_distinct_values_cte(f"used_{n}", column) for n, column in enumerate(columns)]
    params: list = [org_id, org_id] * len(columns)
    selects = []
    for n, (column, part) in enumerate(tests):
        selects.append(
            f"SELECT * FROM (SELECT {n}, v, UPPER(v) LIKE UPPER(%s) ESCAPE '\\' FROM "  # noqa: S608 - numbers only
            f"used_{columns.index(column)} WHERE v IS NOT NULL LIMIT %s) tested_{n}"
        )
        pattern = f"%{connection.ops.prep_for_like_query(part)}%"
        params.extend([pattern, DISTINCT_VALUES_TESTED_AT_MOST + 1])
    with connection.cursor() as cursor:
        cursor.execute(f"WITH RECURSIVE {', '.join(ctes)} {' UNION ALL '.join(selects)}", params)
        rows = cursor.fetchall()
    tested: list[int] = [0] * len(tests)
    matching: list[list[str]] = [[] for _test in tests]
    for n, value, matches in rows:
        tested[n] += 1
        if matches:
            matching[n].append(value)
    too_many = {
        key
        for key, column in too_many_keys.items()
        for n, (tested_column, _part) in enumerate(tests)
        if tested_column == column and tested[n] > DISTINCT_VALUES_TESTED_AT_MOST
    }
    if too_many:
        _cached(lambda: cache.set_many(dict.fromkeys(too_many, True), TOO_MANY_VALUES_SECONDS))
        return None
    return matching


def _cached(call, default=None):
    """A cache call whose failure (the cache server down) only costs its saving."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - any cache backend's error; answers stay right
        logger.warning("cache unavailable for the distinct-value filters: %r", error)
        return default


def lead_detail_queryset(*, membership: Membership, queryset: QuerySet | None = None) -> QuerySet:
    """Visible leads with everything the detail view renders, fetched in a fixed number
    of queries. The prefetches hang from org-scoped leads, hence `unscoped()` on them."""
    visible = leads_visible_to(membership=membership, queryset=queryset)
    return visible.select_related("created_by", "converted_account").prefetch_related(
        "assigned_to",
        Prefetch("teams", queryset=Team.objects.unscoped().order_by("name")),
        Prefetch("contacts", queryset=Contact.objects.unscoped().order_by("first_name")),
        Prefetch("tags", queryset=Tag.objects.unscoped().order_by("name")),
        Prefetch(
            "comments",
            queryset=Comment.objects.unscoped()
            .select_related("commented_by")
            .order_by("commented_on"),
        ),
        Prefetch(
            "attachments",
            queryset=Attachment.objects.unscoped()
            .select_related("created_by")
            .order_by("created_on"),
        ),
    )
