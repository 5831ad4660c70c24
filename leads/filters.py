"""Query filters of the lead list. Invalid values are a 400, never a silently wider result."""

import django_filters
from django.db.models import Exists, F, Func, OuterRef, Q
from django.db.models.functions import Lower

from common.models import Tag
from leads.choices import LeadStatus
from leads.models import Lead
from leads.selectors import sources_matching

#: Statuses a list can be filtered by: converted leads never appear in lists.
LISTED_STATUSES = [choice for choice in LeadStatus.choices if choice[0] != LeadStatus.CONVERTED]


#: The columns `q` searches, in the order of the trigram index on their concatenation
#: (leads/migrations/0002): the query's expression must be the index's, character for
#: character, for PostgreSQL to use it.
SEARCH_COLUMNS = ("first_name", "last_name", "email_normalized", "phone", "account_name", "title")


class LeadSearchText(Func):
    """UPPER(first_name || ' ' || last_name || ' ' || ...): one text to search in."""

    template = "UPPER(%(expressions)s)"
    arg_joiner = " || ' ' || "

    def __init__(self):
        from django.db.models import TextField

        super().__init__(*(F(column) for column in SEARCH_COLUMNS), output_field=TextField())


class LeadFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        help_text="Search: part of the name, e-mail, phone, account name or title (any case).",
    )
    name = django_filters.CharFilter(
        method="filter_name",
        help_text="Part of the first or the last name, or `first last` (any case).",
    )
    title = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the title.")
    source = django_filters.CharFilter(
        method="filter_source",
        help_text="Part of the source, any case: `website` matches `Website Form`.",
    )
    assigned_to = django_filters.UUIDFilter(
        method="filter_assigned_to", help_text="Leads assigned to this user id."
    )
    status = django_filters.ChoiceFilter(
        choices=LISTED_STATUSES,
        help_text="One of `assigned`, `in process`, `recycled`, `closed`.",
    )
    tags = django_filters.CharFilter(
        method="filter_tags",
        help_text="Comma-separated tag names (any case); leads with any of them.",
    )
    city = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the city.")
    email = django_filters.CharFilter(
        field_name="email_normalized",
        method="filter_email",
        help_text="Part of the e-mail address (any case).",
    )

    class Meta:
        model = Lead
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        value = " ".join(value.split()).upper()
        if not value:
            return queryset
        return queryset.alias(search_text=LeadSearchText()).filter(search_text__contains=value)

    def filter_name(self, queryset, name, value):
        value = " ".join(value.split())
        if not value:
            return queryset
        match = Q(first_name__icontains=value) | Q(last_name__icontains=value)
        first, _, last = value.partition(" ")
        if last:
            # "Jane Prosp" finds Jane Prospect too.
            match |= Q(first_name__icontains=first, last_name__icontains=last)
        return queryset.filter(match)

    def filter_assigned_to(self, queryset, name, value):
        # EXISTS rather than a join (a lead never appears twice) or an IN list (which
        # PostgreSQL re-scans per row once the user's assignments outgrow work_mem).
        assigned = Lead.assigned_to.through.objects.filter(lead_id=OuterRef("pk"), user_id=value)
        return queryset.filter(Exists(assigned))

    def filter_tags(self, queryset, name, value):
        names = {part.strip().lower() for part in value.split(",") if part.strip()}
        if not names:
            return queryset
        # The organization's own tag ids first: the link table is then probed for those
        # ids only, whatever other organizations hold.
        tag_ids = list(
            Tag.objects.for_org(self.request.membership.org_id)
            .annotate(lname=Lower("name"))
            .filter(lname__in=names)
            .values_list("pk", flat=True)
        )
        tagged = Lead.tags.through.objects.filter(tag_id__in=tag_ids).values("lead_id")
        return queryset.filter(pk__in=tagged)

    def filter_source(self, queryset, name, value):
        if not value:
            return queryset
        # An organization uses a handful of sources: the pattern is tested on each of them
        # once, and the leads are then found (and counted) by exact source from an index,
        # instead of testing the pattern on every lead. Beyond SOURCES_TESTED_AT_MOST
        # distinct sources, every lead's source is tested, as before.
        matching = sources_matching(org=self.request.membership.org_id, part=value)
        if matching is None:
            return queryset.filter(source__icontains=value)
        return queryset.filter(source__in=matching)

    def filter_email(self, queryset, name, value):
        # icontains: the expression of the e-mail trigram index (UPPER(col::text) LIKE ...).
        value = value.strip().lower()
        return queryset.filter(email_normalized__icontains=value) if value else queryset
