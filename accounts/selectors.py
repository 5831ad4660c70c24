"""Reads on accounts, contacts and opportunities, by role.

ADMIN members see all of the organization's. A USER member sees them only through the
leads they can see (assigned to or created by them): an account created from or linked
to such a lead, the opportunities of such leads, and the contacts of those opportunities
and leads (plus contacts they created themselves). An account reached only because one
of their leads was converted onto it shows its name, not the rest of its contents.
"""

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from accounts.models import Account, Contact, Opportunity
from common.models import Membership


def _visible_leads(membership: Membership) -> QuerySet:
    from leads.selectors import leads_visible_to  # leads imports accounts' models

    return leads_visible_to(membership=membership).values("pk")


def accounts_visible_to(*, membership: Membership, queryset: QuerySet | None = None) -> QuerySet:
    queryset = Account.objects.for_org(membership.org_id) if queryset is None else queryset
    if membership.is_admin:
        return queryset
    from leads.selectors import leads_visible_to

    leads = leads_visible_to(membership=membership)
    return queryset.filter(
        Q(created_from_lead__in=leads.values("pk"))
        | Q(pk__in=leads.filter(converted_account__isnull=False).values("converted_account_id"))
    )


def opportunities_visible_to(
    *, membership: Membership, queryset: QuerySet | None = None
) -> QuerySet:
    queryset = Opportunity.objects.for_org(membership.org_id) if queryset is None else queryset
    if membership.is_admin:
        return queryset
    return queryset.filter(lead__in=_visible_leads(membership))


def contacts_visible_to(*, membership: Membership, queryset: QuerySet | None = None) -> QuerySet:
    queryset = Contact.objects.for_org(membership.org_id) if queryset is None else queryset
    if membership.is_admin:
        return queryset
    leads = _visible_leads(membership)
    through_opportunities = Opportunity.contacts.through.objects.filter(
        opportunity__lead__in=leads
    ).values("contact_id")
    through_leads = Contact.leads.through.objects.filter(lead__in=leads).values("contact_id")
    return queryset.filter(
        Q(created_by_id=membership.user_id)
        | Q(pk__in=through_opportunities)
        | Q(pk__in=through_leads)
    )


@dataclass
class AccountVisibility:
    """What a USER member may see inside accounts, computed once per request."""

    full_accounts: set = field(default_factory=set)
    contacts: set = field(default_factory=set)
    opportunities: set = field(default_factory=set)


def account_visibility(*, membership: Membership) -> AccountVisibility | None:
    """None for ADMIN (everything); for USER the ids they may see in full."""
    if membership.is_admin:
        return None
    return AccountVisibility(
        full_accounts=set(
            Account.objects.for_org(membership.org_id)
            .filter(created_from_lead__in=_visible_leads(membership))
            .values_list("pk", flat=True)
        ),
        contacts=set(contacts_visible_to(membership=membership).values_list("pk", flat=True)),
        opportunities=set(
            opportunities_visible_to(membership=membership).values_list("pk", flat=True)
        ),
    )
