from common.tags import tags_get_or_create
from tests.factories import LeadFactory


def make_lead(org, *, tags=(), assigned_to=(), **fields):
    lead = LeadFactory(org=org, **fields)
    if tags:
        lead.tags.set(tags_get_or_create(org=org, names=tags))
    if assigned_to:
        lead.assigned_to.set(assigned_to)
    return lead
