import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from common.models import Role
from tests.factories import MembershipFactory, OrganizationFactory


@pytest.fixture(autouse=True)
def _fast_and_private(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def client_for(membership) -> APIClient:
    """An API client logged in (real JWT) as the member, acting in their organization."""
    client = APIClient()
    token = RefreshToken.for_user(membership.user).access_token
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ORGANIZATION_ID=str(membership.org_id)
    )
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
