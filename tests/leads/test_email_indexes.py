"""The e-mail's indexes on PostgreSQL: the substring filter's trigram indexes are built on
the filter's own expression, and the exact look-up of every import chunk and capture
(`email_normalized = ANY(...)`) can never be planned on them (a trigram probe per
address: seconds for one chunk)."""

import pytest
from django.db import connection

from leads.imports.write import _existing_by_email
from leads.models import Lead
from tests.factories import LeadFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TRIGRAM_INDEXES = ["lead_email_open_trgm", "lead_email_closed_trgm"]


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL indexes")


def test_the_email_filter_is_written_as_its_trigram_indexes_are_built(
    postgresql, admin_client, org
):
    LeadFactory(org=org, email="ada@example.com")
    LeadFactory(org=org, email="grace@example.org")
    answer = admin_client.get("/api/leads/", {"email": "EXAMPLE.COM"}).json()
    assert [lead["email"] for lead in answer["open_leads"] + answer["closed_leads"]] == [
        "ada@example.com"
    ]
    sql, _ = Lead.objects.filter(email_normalized__icontains="x").query.sql_with_params()
    assert 'UPPER("leads_lead"."email_normalized"::text) LIKE' in sql
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)",
            [TRIGRAM_INDEXES],
        )
        built = dict(cursor.fetchall())
    assert sorted(built) == sorted(TRIGRAM_INDEXES)
    for definition in built.values():
        assert "upper((email_normalized)::text) gin_trgm_ops" in definition, definition


def test_no_trigram_index_can_answer_an_exact_lookup(postgresql, org):
    LeadFactory(org=org, email="ada@example.com")
    assert list(_existing_by_email(org, ["ada@example.com", "none@example.com"])) == [
        "ada@example.com"
    ]
    # A trigram index on a bare column also answers `column = ...`, and PostgreSQL may
    # prefer it to the btree when its statistics are stale. On an UPPER(...) expression it
    # cannot: every trigram index of the leads is on one.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'leads_lead' AND indexdef LIKE '%%gin_trgm_ops%%'"
        )
        trigram = dict(cursor.fetchall())
    assert set(TRIGRAM_INDEXES) <= set(trigram)
    for name, definition in trigram.items():
        expression = definition.split("gin_trgm_ops")[0]
        assert "upper(" in expression, (name, definition)
