"""List endpoints run a constant number of SQL queries, whatever the page size: an N+1
introduced in any list (present or future) fails here."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import client_for
from tests.routes import factories_by_model, org_scoped_routes

pytestmark = pytest.mark.django_db

LIST_ROUTES = [
    route
    for route in org_scoped_routes()
    if not route.params and "GET" in route.methods and getattr(route.view_class, "model", None)
]


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.parametrize("route", LIST_ROUTES, ids=lambda r: r.path)
def test_list_query_count_does_not_grow_with_rows(route, admin_membership):
    model = route.view_class.model
    make = factories_by_model()[model]
    client = client_for(admin_membership)
    url = route.url() + "?limit=100"
    make.create_batch(2, org=admin_membership.org)
    few = _queries(client, url)
    make.create_batch(20, org=admin_membership.org)
    many = _queries(client, url)
    assert many == few, f"{route.path}: {few} queries for 2 rows, {many} for 22"
