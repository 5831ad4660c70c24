import pytest

from tests.capture import factories

pytestmark = pytest.mark.django_db

ORG_OWNED = [
    factories.ApiKeyFactory,
    factories.IdempotencyRecordFactory,
    factories.SpamSubmissionFactory,
]


@pytest.mark.parametrize("factory", ORG_OWNED, ids=lambda f: f.__name__)
def test_each_factory_needs_only_an_organization_and_stays_inside_it(factory, org):
    obj = factory(org=org)
    assert obj.org_id == org.pk
    for field in obj._meta.concrete_fields:
        related = getattr(obj, field.name, None) if field.is_relation else None
        if related is not None and hasattr(related, "org_id"):
            assert related.org_id == org.pk, field.name
