"""Every route is organization-scoped (it inherits the base viewsets, which resolve the
organization and cannot be bypassed) unless it is on this short list of routes that are
about the caller rather than an organization, or public by nature."""

import pytest

from common.api.viewsets import OrgScopedGenericViewSet, OrgScopedModelViewSet
from tests.routes import all_routes

PUBLIC_OR_PERSONAL = {
    "/api/schema/",
    "/api/docs/",
    "/api/health/",
    "/api/leads/create-from-site/",  # authenticated by the form's API key
    "/api/auth/token/",
    "/api/auth/token/refresh/",
    "/api/auth/logout/",
    "/api/auth/me/",
    "/api/auth/password/",
    "/api/auth/password-reset/",
    "/api/auth/password-reset/confirm/",
    "/api/invitations/accept/",
    "/api/orgs/",  # the caller's own organizations
}


def test_every_route_is_organization_scoped_or_allowed():
    unscoped = {route.path for route in all_routes() if not route.is_org_scoped}
    assert unscoped - PUBLIC_OR_PERSONAL == set(), "scope these routes or justify them here"


def test_the_allowlist_has_no_stale_entries():
    assert {route.path for route in all_routes()} >= PUBLIC_OR_PERSONAL


@pytest.mark.parametrize(
    "name",
    ["get_permissions", "permission_classes", "get_queryset", "organization"],
)
def test_a_view_that_redefines_the_organization_or_permissions_fails_at_import(name):
    with pytest.raises(TypeError, match=name):
        type("Sneaky", (OrgScopedModelViewSet,), {"__module__": "x", name: None})


def test_an_initial_that_skips_the_organization_fails_at_import():
    def initial(self, request, *args, **kwargs):
        return None

    with pytest.raises(TypeError, match="super"):
        type("Sneaky", (OrgScopedGenericViewSet,), {"__module__": "x", "initial": initial})


def test_an_initial_that_calls_super_is_accepted():
    def initial(self, request, *args, **kwargs):
        super(type(self), self).initial(request, *args, **kwargs)

    type("Fine", (OrgScopedGenericViewSet,), {"__module__": "x", "initial": initial})
