"""Organization scoping: the one mechanism that keeps each organization's data apart.

Every organization-owned model uses `OrgManager` as its default manager. Its querysets
refuse to run (raise `UnscopedQueryError`) until they are narrowed with `.for_org(org)`,
or explicitly opened with `.unscoped()` (greppable, for the few places that must read
across organizations, such as resolving an API key). A related manager reached from an
already-scoped object (`lead.comments`, `org.leads`) is scoped through that object.
"""

from __future__ import annotations

import uuid

from django.db import models


class UnscopedQueryError(RuntimeError):
    """A query on organization-owned data ran without an organization."""


class OrgQuerySet(models.QuerySet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._org_scoped = False

    def _clone(self):
        clone = super()._clone()
        clone._org_scoped = self._org_scoped
        return clone

    def for_org(self, org) -> OrgQuerySet:
        org_id = getattr(org, "pk", org)
        if not isinstance(org_id, uuid.UUID | str) or not org_id:
            raise UnscopedQueryError("for_org() needs an organization or its id")
        clone = self.filter(org_id=org_id)
        clone._org_scoped = True
        return clone

    def unscoped(self) -> OrgQuerySet:
        clone = self._chain()
        clone._org_scoped = True
        return clone

    def _require_scope(self) -> None:
        if not self._org_scoped:
            raise UnscopedQueryError(
                f"{self.model.__name__} queried without an organization: "
                "use .for_org(org), or .unscoped() where crossing organizations is intended"
            )

    # Every way a queryset reaches the database goes through one of these.
    def _fetch_all(self):
        if self._result_cache is None:
            self._require_scope()
        super()._fetch_all()

    def count(self):
        self._require_scope()
        return super().count()

    def exists(self):
        self._require_scope()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def iterator(self, *args, **kwargs):
        self._require_scope()
        return super().iterator(*args, **kwargs)

    def update(self, **kwargs):
        self._require_scope()
        return super().update(**kwargs)

    def delete(self):
        self._require_scope()
        return super().delete()


class OrgManager(models.Manager.from_queryset(OrgQuerySet)):
    def get_queryset(self):
        queryset = super().get_queryset()
        # Related managers carry the object they hang from; when that object is itself
        # organization-owned (or the organization), the relation cannot leave it.
        parent = getattr(self, "instance", None)
        if parent is not None and _is_org_bound(parent):
            queryset._org_scoped = True
        return queryset


def _is_org_bound(obj) -> bool:
    from common.models import Organization

    return isinstance(obj, Organization | OrgOwnedModel)


class OrgOwnedModel(models.Model):
    """Base for every table that belongs to one organization.

    The organization column comes first in every unique constraint and index, so the data
    can later be distributed by organization without a schema rewrite.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey("common.Organization", on_delete=models.CASCADE, related_name="+")

    objects = OrgManager()

    class Meta:
        abstract = True


ORG_HEADER = "organization-id"
#: The request attribute where the authentication leaves the membership it read with the
#: user (common.api.authentication).
MEMBERSHIP_READ_WITH_USER = "_membership_read_with_user"


def membership_for_request(request):
    """The caller's active membership in the organization named by the `organization-id` header.

    Missing or malformed header: 400. An organization that does not exist or where the caller
    is not an active member: the same 403 in both cases, so ids cannot be probed. Looked up
    on every request, so removing a member takes effect immediately.
    """
    from rest_framework.exceptions import ParseError, PermissionDenied

    from common.models import Membership, active_member

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
        if not (membership.is_active and membership.user.is_active):
            membership = None  # the same rule as active_member()
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
