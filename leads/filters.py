"""Query filters of the lead list. Invalid values are a 400, never a silently wider result."""

import django_filters
from django.db.models import Exists, F, Func, OuterRef, Q
from django.db.models.functions import Lower

from common.models import Tag
from leads.choices import LeadStatus
from leads.models import Lead
from leads.selectors import values_matching

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
    title = django_filters.CharFilter(method="filter_part_of", help_text="Part of the title.")
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
    city = django_filters.CharFilter(method="filter_part_of", help_text="Part of the city.")
    email = django_filters.CharFilter(
        field_name="email_normalized",
        method="filter_email",
        help_text="Part of the e-mail address (any case).",
    )

    class Meta:
        model = Lead
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: The filters applied by testing their pattern on each lead's own row (`q` and the
        #: e-mail always; the others beyond their distinct values), once `qs` was read.
        #: On PostgreSQL a trigram index finds the candidates and each is confirmed on its
        #: row: such a list's count and page are read together (leads.listing).
        self.rows_checked: set[str] = set()

    def filter_q(self, queryset, name, value):
        value = " ".join(value.split()).upper()
        if not value:
            return queryset
        self.rows_checked.add(name)
        return queryset.alias(search_text=LeadSearchText()).filter(search_text__contains=value)

    def filter_name(self, queryset, name, value):
        value = " ".join(value.split())
        if not value:
            return queryset
        # Each (column, part) pair below is one `icontains`; "Jane Prosp" also finds Jane
        # Prospect (first name and last name, each containing its word).
        tests = [("first_name", value), ("last_name", value)]
        first, _, last = value.partition(" ")
        if last:
            tests += [("first_name", first), ("last_name", last)]
        matching = self._values_matching(tests)
        if matching is None:
            self.rows_checked.add(name)
            match = Q(first_name__icontains=value) | Q(last_name__icontains=value)
            if last:
                match |= Q(first_name__icontains=first, last_name__icontains=last)
            return queryset.filter(match)
        match = Q(pk__in=[])
        if matching[0]:
            match |= Q(first_name__in=matching[0])
        if matching[1]:
            match |= Q(last_name__in=matching[1])
        if last and matching[2] and matching[3]:
            match |= Q(first_name__in=matching[2], last_name__in=matching[3])
        return queryset.filter(match)

    def filter_part_of(self, queryset, name, value):
        """`name` contains `value`, any case (the city, title and source filters)."""
        matching = self._values_matching([(name, value)])
        if matching is None:
            self.rows_checked.add(name)
            return queryset.filter(**{f"{name}__icontains": value})
        return queryset.filter(**{f"{name}__in": matching[0]})

    def _values_matching(self, tests):
        # An organization's leads share a few hundred cities, titles or names at most: the
        # pattern is tested on each distinct value once (a loose index scan), and the leads
        # are then found, counted and paged by exact value from an index that also holds
        # their status and creation time (leads.models), instead of testing the pattern on
        # every lead. Beyond DISTINCT_VALUES_TESTED_AT_MOST distinct values, None: every
        # lead's value is tested, with the trigram indexes on PostgreSQL.
        return values_matching(org=self.request.membership.org_id, tests=tests)

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
        # An organization uses a handful of sources (as _values_matching explains).
        return self.filter_part_of(queryset, "source", value)

    def filter_email(self, queryset, name, value):
        # icontains: the expression of the e-mail trigram index (UPPER(col::text) LIKE ...).
        value = value.strip().lower()
        if not value:
            return queryset
        self.rows_checked.add("email")
        return queryset.filter(email_normalized__icontains=value)
