"""One test for every organization-scoped route: another organization's objects are
invisible (404) and unchangeable, and another organization's header is refused (403).

Routes and models are discovered, so a route or model added later is covered with no
extra code; a model without a factory, or a detail route whose view does not declare its
`model`, fails here.
"""

import json

import pytest
from django.forms.models import model_to_dict

from common.models import Role
from tests.conftest import client_for
from tests.factories import MembershipFactory, OrganizationFactory
from tests.routes import factories_by_model, org_owned_models, org_scoped_routes

pytestmark = pytest.mark.django_db

ROUTES = org_scoped_routes()
DETAIL_ROUTES = [route for route in ROUTES if route.params]
LIST_ROUTES = [route for route in ROUTES if not route.params]


def test_every_org_owned_model_has_a_factory():
    factories = factories_by_model()
    missing = [m.__name__ for m in org_owned_models() if m not in factories]
    assert not missing, f"add factories (tests/**/factories.py) for: {missing}"


def test_routes_are_discovered():
    paths = {route.path for route in ROUTES}
    assert "/api/users/<uuid:user_id>/" in paths
    assert "/api/contacts/" in paths


@pytest.fixture
def two_orgs():
    """Org A's admin, and one object of every organization-owned model in org B."""
    mine, theirs = OrganizationFactory(name="Mine"), OrganizationFactory(name="Theirs")
    me = MembershipFactory(org=mine, role=Role.ADMIN)
    MembershipFactory(org=theirs, role=Role.ADMIN)
    factories = factories_by_model()
    foreign = {model: factories[model](org=theirs) for model in org_owned_models()}
    return me, theirs, foreign


def _object_for(route, foreign):
    model = getattr(route.view_class, "model", None)
    assert model is not None, f"{route.path}: declare `model` on {route.view_class.__name__}"
    return foreign[model]


def _send(client, method, url):
    if method in {"GET", "DELETE"}:
        return getattr(client, method.lower())(url)
    return getattr(client, method.lower())(url, {}, format="json")


def _url_for(route, obj):
    lookup = getattr(route.view_class, "lookup_field", "pk")
    value = getattr(obj, lookup if lookup != "pk" else "pk")
    return route.url(**{name: value for name in route.params})


@pytest.mark.parametrize("route", DETAIL_ROUTES, ids=lambda r: r.path)
def test_foreign_object_is_not_found_and_unchanged(route, two_orgs):
    me, _theirs, foreign = two_orgs
    obj = _object_for(route, foreign)
    before = model_to_dict(obj)
    client = client_for(me)
    url = _url_for(route, obj)
    for method in route.methods:
        response = _send(client, method, url)
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.json()["code"] == "not_found"
    survivor = type(obj).objects.unscoped().filter(pk=obj.pk).first()
    assert survivor is not None, f"{route.path}: another organization's object was deleted"
    assert model_to_dict(survivor) == before


@pytest.mark.parametrize("route", LIST_ROUTES, ids=lambda r: r.path)
def test_lists_show_nothing_of_another_organization(route, two_orgs):
    me, _theirs, foreign = two_orgs
    if "GET" not in route.methods:
        pytest.skip("no list to read")
    response = client_for(me).get(route.url())
    assert response.status_code == 200, response.content
    # Streamed answers (exports) are read to the end: they must not leak either.
    if response.streaming:
        body = b"".join(response.streaming_content).decode("utf-8", "replace")
    else:
        body = json.dumps(response.json())
    leaked = [type(o).__name__ for o in foreign.values() if str(o.pk) in body]
    assert not leaked, f"{route.path} shows another organization's {leaked}"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.path)
def test_another_organizations_header_is_forbidden(route, two_orgs):
    me, theirs, foreign = two_orgs
    client = client_for(me, org_header=theirs.pk)
    url = _url_for(route, _object_for(route, foreign)) if route.params else route.url()
    for method in route.methods:
        response = _send(client, method, url)
        assert response.status_code == 403, (method, url, response.status_code)
        assert response.json()["code"] == "organization_forbidden"
