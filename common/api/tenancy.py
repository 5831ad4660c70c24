"""The organization of a request: named by the `organization-id` header, checked against
the caller's memberships on every request."""

import uuid

from rest_framework.exceptions import ParseError, PermissionDenied

from common.models import Membership, active_member
from common.tenancy import ORG_HEADER

#: The request attribute where the authentication leaves the membership it read with the
#: user (common.api.authentication).
MEMBERSHIP_READ_WITH_USER = "_membership_read_with_user"


def membership_for_request(request):
    """The caller's active membership in the organization named by the `organization-id` header.

    Missing or malformed header: 400. An organization that does not exist or where the caller
    is not an active member: the same 403 in both cases, so ids cannot be probed. Looked up
    on every request, so removing a member takes effect immediately.
    """
    raw = request.headers.get(ORG_HEADER, "").strip()
    if not raw:
        raise ParseError(
            f"The {ORG_HEADER} header is required.", code="organization_header_missing"
        )
    try:
        org_id = uuid.UUID(raw)
    except ValueError:
        raise ParseError(
            f"The {ORG_HEADER} header must be a UUID.", code="organization_header_invalid"
        ) from None
    # Read with the user by the authentication when it could (common.api.authentication).
    membership = getattr(request, MEMBERSHIP_READ_WITH_USER, None)
    if membership is not None and (membership.org_id, membership.user_id) == (
        org_id,
        request.user.pk,
    ):
        if not membership.is_active_member:
            membership = None
    else:
        membership = (
            Membership.objects.for_org(org_id)
            .select_related("org", "user")
            .filter(active_member(), user_id=request.user.pk)
            .first()
        )
    if membership is None:
        raise PermissionDenied(
            "You are not a member of this organization.", code="organization_forbidden"
        )
    return membership
