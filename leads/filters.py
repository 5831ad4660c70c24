"""Query filters of the lead list. Invalid values are a 400, never a silently wider result."""

import django_filters
from django.db.models import Q
from django.db.models.functions import Lower

from leads.choices import LeadStatus
from leads.models import Lead

#: Statuses a list can be filtered by: converted leads never appear in lists.
LISTED_STATUSES = [choice for choice in LeadStatus.choices if choice[0] != LeadStatus.CONVERTED]


class LeadFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(
        method="filter_name",
        help_text="Part of the first or the last name, or `first last` (any case).",
    )
    title = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the title.")
    source = django_filters.CharFilter(
        lookup_expr="icontains",
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
        # A subquery rather than a join: a lead never appears twice.
        assigned = Lead.assigned_to.through.objects.filter(user_id=value).values("lead_id")
        return queryset.filter(pk__in=assigned)

    def filter_tags(self, queryset, name, value):
        names = {part.strip().lower() for part in value.split(",") if part.strip()}
        if not names:
            return queryset
        tagged = (
            Lead.tags.through.objects.annotate(tag_name=Lower("tag__name"))
            .filter(tag_name__in=names)
            .values("lead_id")
        )
        return queryset.filter(pk__in=tagged)

    def filter_email(self, queryset, name, value):
        value = value.strip().lower()
        return queryset.filter(email_normalized__contains=value) if value else queryset
