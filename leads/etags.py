"""A lead's version as an HTTP entity tag. Every write to a lead's fields or relations
moves `updated_on` (the services see to it), so the tag changes exactly when the lead
does, and is computed without a query from the row a view already has."""

import hashlib

from leads.models import Lead


def lead_etag(lead: Lead) -> str:
    version = f"{lead.pk}:{lead.updated_on.isoformat()}".encode()
    return '"' + hashlib.sha256(version).hexdigest()[:32] + '"'


def etag_matches(lead: Lead, if_match: str) -> bool:
    """RFC 9110 If-Match: `*`, or one of a comma-separated list of strong tags (a weak
    `W/"..."` tag never matches)."""
    current = lead_etag(lead)
    for candidate in (part.strip() for part in if_match.split(",")):
        if candidate == "*" or candidate == current:
            return True
    return False
