"""Reads on leads. Every function takes the caller's membership, so role rules live here once."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    prefetch_related_objects,
)

from accounts.models import Contact
from accounts.selectors import contacts_visible_to
from common.models import Membership, Organization, Tag, Team, User, active_member
from leads.choices import LeadSource, LeadStatus
from leads.listing import Cursor, after, capped_count, ordered, position_of
from leads.models import Attachment, Comment, Lead, LeadTally

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
    assigned = Lead.assigned_to.through.objects.filter(
        lead_id=OuterRef("pk"), user_id=membership.user_id
    )
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
    unfiltered: bool = False,
) -> LeadListPage:
    """Both pages (open and closed) of an already filtered queryset of the organization's
    leads (the member's visibility is applied here), their totals, and the picker
    catalogues. The number of queries does not depend on the page size, and no query reads
    more than a page, a capped count, or a catalogue's bounded index range.

    `unfiltered` (no filter narrowed `filtered`): the totals are the kept tallies, exact
    at any size; otherwise they are counted, exact up to COUNT_EXACT_LIMIT."""
    org = membership.org
    is_closed = Q(status=LeadStatus.CLOSED)
    if unfiltered:
        open_count, closed_count = tallied_counts(membership=membership)
        open_exact = closed_exact = True
    else:
        parts = [
            part.exclude(status=LeadStatus.CONVERTED)
            for part in visible_parts(membership=membership, queryset=filtered)
        ]
        open_count, open_exact = capped_count(*(part.exclude(is_closed) for part in parts))
        closed_count, closed_exact = capped_count(*(part.filter(is_closed) for part in parts))
    active = leads_visible_to(membership=membership, queryset=filtered).exclude(
        status=LeadStatus.CONVERTED
    )
    open_all, closed_all = active.exclude(is_closed), active.filter(is_closed)

    def page(queryset, position, started):
        if not limit or not started:
            return []
        queryset = ordered(queryset, ordering)
        if position is not None:
            return list(after(queryset, ordering, position)[:limit])
        return list(queryset[offset : offset + limit])

    open_leads = page(open_all, cursor and cursor.open, cursor is None or cursor.open is not None)
    closed_leads = page(
        closed_all, cursor and cursor.closed, cursor is None or cursor.closed is not None
    )
    # One prefetch for both pages: two queries in all, whatever the page size.
    prefetch_related_objects(
        open_leads + closed_leads,
        Prefetch("assigned_to", queryset=User.objects.only("id")),
        Prefetch("tags", queryset=Tag.objects.unscoped().only("id", "name").order_by("name")),
    )
    return LeadListPage(
        open_leads=open_leads,
        closed_leads=closed_leads,
        open_leads_count=open_count,
        closed_leads_count=closed_count,
        counts_exact=open_exact and closed_exact,
        next_cursor=_next_cursor(open_leads, closed_leads, limit, ordering),
        contacts=list(
            contacts_visible_to(membership=membership).order_by("-created_on")[:CATALOGUE_LIMIT]
        ),
        users=list(active_members(org=org)[:CATALOGUE_LIMIT]),
        source_list=[*LeadSource.values, *sources_used(org=org)],
        tags=list(
            Tag.objects.for_org(org)
            .order_by("name")
            .values_list("name", flat=True)[:CATALOGUE_LIMIT]
        ),
        status=list(LeadStatus.values),
    )


def tallied_counts(*, membership: Membership) -> tuple[int, int]:
    """(open, closed) leads `membership` sees, from the tallies (leads.models.LeadTally):
    the organization's for ADMIN, the member's own (created or assigned) for USER. One
    read of a few rows, whatever the organization's size."""
    member = LeadTally.EVERYONE if membership.is_admin else membership.user_id
    totals = dict(
        LeadTally.objects.for_org(membership.org_id)
        .filter(member=member)
        .values_list("status")
        .annotate(total=Sum("n"))
        .values_list("status", "total")
    )
    closed = totals.pop(LeadStatus.CLOSED, 0)
    totals.pop(LeadStatus.CONVERTED, None)
    return sum(totals.values()), closed


def _next_cursor(open_leads, closed_leads, limit, ordering) -> str | None:
    """A full page may have more behind it; a short one ended its list."""
    if not limit:
        return None
    positions = [
        position_of(leads[-1], ordering) if len(leads) == limit else None
        for leads in (open_leads, closed_leads)
    ]
    if positions == [None, None]:
        return None
    return Cursor(ordering=ordering, open=positions[0], closed=positions[1]).encode()


# The distinct sources of one organization without reading its leads: a loose index scan
# over (org, source) that jumps from each source to the next one, one index seek each.
_SOURCES_SQL = """
WITH RECURSIVE used(source) AS (
    SELECT MIN(source) FROM leads_lead WHERE org_id = %s AND source > ''
    UNION ALL
    SELECT (SELECT MIN(l.source) FROM leads_lead l WHERE l.org_id = %s AND l.source > u.source)
    FROM used u WHERE u.source IS NOT NULL
)
SELECT source FROM used WHERE source IS NOT NULL LIMIT %s
"""


def sources_used(*, org) -> list[str]:
    """Sources the organization's leads use beyond the common ones (bounded)."""
    org_id = Organization._meta.pk.get_db_prep_value(getattr(org, "pk", org), connection)
    with connection.cursor() as cursor:
        cursor.execute(_SOURCES_SQL, [org_id, org_id, CATALOGUE_LIMIT + len(LeadSource.values)])
        found = [row[0] for row in cursor.fetchall()]
    common = set(LeadSource.values)
    return [source for source in found if source not in common][:CATALOGUE_LIMIT]


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
