"""Who gets a lead that arrives without an assignee.

Placeholder until assignment rules exist: the caller's fallback (e.g. an API key's
default assignees) is used as is.
"""

from common.models import User
from leads.models import Lead


def assignees_for_new_lead(*, lead: Lead, fallback: list[User] | None = None) -> list[User]:
    return list(fallback or [])
