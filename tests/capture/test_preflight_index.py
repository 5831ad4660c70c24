"""A preflight without a key asks whether any active key allows the origin: one indexed
query on PostgreSQL, whatever the number of keys."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from capture.keys import any_active_key_allows_origin
from tests.capture.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db


def test_answers_from_active_keys_only(org, other_org):
    ApiKeyFactory(org=org, allowed_origins=["https://shop.example.com"])
    revoked = ApiKeyFactory(org=other_org, allowed_origins=["https://gone.example.com"])
    revoked.revoked_on = revoked.created_on
    revoked.save()
    ApiKeyFactory(org=other_org, allowed_origins=["https://shop.example.com.evil.test"])

    assert any_active_key_allows_origin("https://SHOP.example.com:443")
    assert not any_active_key_allows_origin("https://gone.example.com")
    assert not any_active_key_allows_origin("https://example.com")
    assert not any_active_key_allows_origin("https://shop.example")  # a prefix is no match


@pytest.mark.postgres
def test_postgresql_uses_one_containment_query_on_the_gin_index(org):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    for n in range(30):
        ApiKeyFactory(org=org, allowed_origins=[f"https://site{n}.example.com"])

    with CaptureQueriesContext(connection) as queries:
        assert any_active_key_allows_origin("https://site7.example.com")
    assert len(queries) == 1
    assert "@>" in queries[0]["sql"]

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + queries[0]["sql"].replace("%", "%%"))
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "capture_apikey_active_origins_gin" in plan, plan
