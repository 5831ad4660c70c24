import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from common.models import Role
from tests.factories import MembershipFactory, OrganizationFactory


@pytest.fixture(autouse=True)
def _fast_and_private(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Failed-login counters live in the process-wide cache: each test starts from zero.
    cache.clear()


_OWN_ORG = object()


def client_for(membership, org_header=_OWN_ORG) -> APIClient:
    """An API client logged in (real JWT) as the member. It sends the member's organization
    in the organization-id header, or `org_header` instead (None: no header)."""
    client = APIClient()
    token = RefreshToken.for_user(membership.user).access_token
    credentials = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    org_header = membership.org_id if org_header is _OWN_ORG else org_header
    if org_header is not None:
        credentials["HTTP_ORGANIZATION_ID"] = str(org_header)
    client.credentials(**credentials)
    return client


@pytest.fixture
def org(db):
    return OrganizationFactory()


@pytest.fixture
def admin_membership(org):
    return MembershipFactory(org=org, role=Role.ADMIN)


@pytest.fixture
def user_membership(org):
    return MembershipFactory(org=org, role=Role.USER)


@pytest.fixture
def admin_client(admin_membership):
    return client_for(admin_membership)


@pytest.fixture
def user_client(user_membership):
    return client_for(user_membership)


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Other organization")


@pytest.fixture
def other_admin_membership(other_org):
    return MembershipFactory(org=other_org, role=Role.ADMIN)
