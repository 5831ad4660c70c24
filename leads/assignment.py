"""Who gets a lead that arrives without an assignee.

Every path that creates leads without an explicit assignee (website capture, bulk import,
the API) asks here. Placeholder until assignment rules exist: the caller's fallback (e.g. an
API key's default assignees) is used as is.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from common.models import Organization, User


@dataclass(frozen=True)
class LeadFacts:
    """What assignment rules may match on."""

    source: str = ""
    country: str = ""
    state: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)


def assignees_for_new_leads(
    *, org: Organization, leads: Sequence[LeadFacts], fallback: Sequence[User] | None = None
) -> list[list[User]]:
    """For each lead, in order, the users it should be assigned to (possibly none)."""
    return [list(fallback or []) for _ in leads]


def assignees_for_new_lead(
    *, org: Organization, lead: LeadFacts, fallback: Sequence[User] | None = None
) -> list[User]:
    return assignees_for_new_leads(org=org, leads=[lead], fallback=fallback)[0]
