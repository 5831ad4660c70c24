"""Writes on leads. Views, tasks and the import pipeline all come through here."""

from django.db import transaction

from common.models import Organization, User
from common.phones import normalize_phone
from common.tags import tags_get_or_create
from leads.assignment import LeadFacts, assignees_for_new_lead
from leads.choices import LeadStatus
from leads.conversion import Conversion, lead_convert
from leads.models import Lead
from leads.notifications import notify_newly_assigned

# Plain columns a caller may set; relations are passed separately.
LEAD_SCALAR_FIELDS = (
    "title",
    "first_name",
    "last_name",
    "email",
    "phone",
    "status",
    "source",
    "account_name",
    "website",
    "description",
    "opportunity_amount",
    "address_line",
    "street",
    "city",
    "state",
    "postcode",
    "country",
)


def lead_create(
    *,
    org: Organization,
    by: User | None,
    data: dict,
    contacts=None,
    assigned_to=None,
    teams=None,
    tags=None,
    auto_convert: bool = False,
    default_assignees=None,
) -> tuple[Lead, Conversion | None]:
    """Create a lead. Without explicit assignees the assignment rules decide (then
    `default_assignees`). `auto_convert`, or status "converted", converts it in the same
    transaction."""
    fields = {key: value for key, value in data.items() if key in LEAD_SCALAR_FIELDS}
    convert = auto_convert or fields.get("status") == LeadStatus.CONVERTED
    if convert or not fields.get("status"):
        fields["status"] = LeadStatus.ASSIGNED
    fields["phone"] = normalize_phone(fields.get("phone"), org.default_phone_region)

    with transaction.atomic():
        lead = Lead.objects.create(org=org, created_by=by, **fields)
        if contacts:
            lead.contacts.set(contacts)
        if teams:
            lead.teams.set(teams)
        if tags:
            lead.tags.set(tags_get_or_create(org=org, names=tags))
        assignees = list(assigned_to or []) or assignees_for_new_lead(
            org=org, lead=_facts(lead, tags), fallback=default_assignees
        )
        if assignees:
            lead.assigned_to.set(assignees)
            notify_newly_assigned(lead=lead, before=set(), after={u.pk for u in assignees})
        conversion = lead_convert(lead=lead, by=by) if convert else None
    return lead, conversion


def _facts(lead: Lead, tags) -> LeadFacts:
    return LeadFacts(
        source=lead.source,
        country=lead.country,
        state=lead.state,
        tags=frozenset(str(name).strip().lower() for name in tags or []),
    )
