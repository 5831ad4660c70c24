"""Reads on leads. Every function takes the caller's membership, so role rules live here once."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet, prefetch_related_objects

from accounts.models import Contact
from accounts.selectors import contacts_visible_to
from common.models import Membership, Tag, Team, User
from leads.choices import LeadSource, LeadStatus
from leads.models import Attachment, Comment, Lead

#: Upper bound of each picker catalogue in the list response (contacts, users, tags, sources).
CATALOGUE_LIMIT = 100
LIST_LIMIT_DEFAULT = 10
LIST_LIMIT_MAX = 100


def leads_visible_to(*, membership: Membership, queryset: QuerySet | None = None) -> QuerySet:
    """The organization's leads `membership` may see: all for ADMIN; for USER the leads
    assigned to them or created by them. A subquery instead of a join keeps rows unique."""
    queryset = Lead.objects.for_org(membership.org_id) if queryset is None else queryset
    if membership.is_admin:
        return queryset
    assigned = Lead.assigned_to.through.objects.filter(user_id=membership.user_id).values("lead_id")
    return queryset.filter(Q(created_by_id=membership.user_id) | Q(pk__in=assigned))


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
    return User.objects.filter(
        memberships__org=org, memberships__is_active=True, is_active=True
    ).order_by("first_name", "last_name", "email")


@dataclass(frozen=True)
class LeadListPage:
    open_leads: list
    closed_leads: list
    open_leads_count: int
    closed_leads_count: int
    contacts: list
    users: list
    source_list: list[str]
    tags: list[str]
    status: list[str]


def lead_list(
    *, membership: Membership, filtered: QuerySet, limit: int, offset: int
) -> LeadListPage:
    """Both pages (open and closed) of an already filtered queryset, their totals, and the
    picker catalogues. The number of queries does not depend on the page size."""
    org = membership.org
    active = filtered.exclude(status=LeadStatus.CONVERTED)
    is_closed = Q(status=LeadStatus.CLOSED)
    counts = active.aggregate(
        open_count=Count("pk", filter=~is_closed), closed_count=Count("pk", filter=is_closed)
    )
    ordering = ("-created_on", "-pk")
    window = slice(offset, offset + limit)
    open_leads = list(active.exclude(is_closed).order_by(*ordering)[window]) if limit else []
    closed_leads = list(active.filter(is_closed).order_by(*ordering)[window]) if limit else []
    # One prefetch for both pages: two queries in all, whatever the page size.
    prefetch_related_objects(
        open_leads + closed_leads,
        Prefetch("assigned_to", queryset=User.objects.only("id")),
        Prefetch("tags", queryset=Tag.objects.unscoped().only("id", "name").order_by("name")),
    )

    used_sources = (
        leads_visible_to(membership=membership)
        .exclude(source="")
        .exclude(source__in=LeadSource.values)
        .order_by("source")
        .values_list("source", flat=True)
        .distinct()[:CATALOGUE_LIMIT]
    )
    return LeadListPage(
        open_leads=open_leads,
        closed_leads=closed_leads,
        open_leads_count=counts["open_count"],
        closed_leads_count=counts["closed_count"],
        contacts=list(
            contacts_visible_to(membership=membership).order_by("-created_on")[:CATALOGUE_LIMIT]
        ),
        users=list(active_members(org=org)[:CATALOGUE_LIMIT]),
        source_list=[*LeadSource.values, *used_sources],
        tags=list(
            Tag.objects.for_org(org)
            .order_by("name")
            .values_list("name", flat=True)[:CATALOGUE_LIMIT]
        ),
        status=list(LeadStatus.values),
    )


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
