import pytest

from tests.conftest import client_for
from tests.factories import LeadFactory, MembershipFactory


@pytest.fixture
def other_user_membership(org):
    """A second USER member of the same organization."""
    return MembershipFactory(org=org)


@pytest.fixture
def other_user_client(other_user_membership):
    return client_for(other_user_membership)


@pytest.fixture
def other_org_lead(other_org):
    return LeadFactory(org=other_org)
