"""Schema-driven fuzzing of every operation, in-process: no input gives a 5xx, and every
response (status code, content type, body) matches what the schema documents."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from common.models import Role
from crm.wsgi import application
from tests.conftest import client_for
from tests.factories import ContactFactory, LeadFactory, MembershipFactory, OrganizationFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def keep_test_connection():
    """Requests go straight to the WSGI app, whose end-of-request hook would close the test
    transaction's connection; Django's own test client disconnects it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def member_headers(db, keep_test_connection):
    """Real credentials, so fuzzed requests get past authentication into the views."""
    org = OrganizationFactory()
    membership = MembershipFactory(org=org, role=Role.ADMIN)
    LeadFactory.create_batch(3, org=org)
    ContactFactory(org=org)
    credentials = client_for(membership)._credentials
    return {
        "Authorization": credentials["HTTP_AUTHORIZATION"],
        "organization-id": credentials["HTTP_ORGANIZATION_ID"],
    }


@schema.parametrize()
@hypothesis_settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_operation_is_robust(case, member_headers):
    if case.path.startswith("/api/auth/"):
        case.call_and_validate(checks=CHECKS)
    else:
        case.call_and_validate(headers=member_headers, checks=CHECKS)
