"""Reads on companies."""

from django.db.models import QuerySet

from common.models import Membership, active_member
from companies.models import Company


def membership_for_company(*, user, company_id) -> Membership | None:
    """The caller's active membership in the organization that owns `company_id`, if any.

    Crossing organizations is intended here: the spec's company GET carries no
    organization header, so the company is looked up among the caller's own active
    organizations, and only there."""
    owner = Company.objects.unscoped().filter(pk=company_id).values("org_id")
    return (
        Membership.objects.unscoped()
        .select_related("org", "user")
        .filter(active_member(), user_id=user.pk, org_id__in=owner)
        .first()
    )


def company_list(*, queryset: QuerySet) -> QuerySet:
    return queryset.order_by("name", "pk")
