"""The e-mail's two indexes on PostgreSQL: the substring filter reads the trigram index, and
the exact look-up of every import chunk and capture (`email_normalized = ANY(...)`) can never
be planned on it (a trigram probe per address: seconds for one chunk)."""

import pytest
from django.db import connection

from leads.imports.write import _existing_by_email
from leads.models import Lead
from tests.factories import LeadFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL indexes")


def test_the_email_filter_reads_the_trigram_index(postgresql, admin_client, org):
    LeadFactory(org=org, email="ada@example.com")
    LeadFactory(org=org, email="grace@example.org")
    answer = admin_client.get("/api/leads/", {"email": "EXAMPLE.COM"}).json()
    assert [lead["email"] for lead in answer["open_leads"] + answer["closed_leads"]] == [
        "ada@example.com"
    ]
    # Across organizations, so that only the trigram index fits the condition.
    sql, params = (
        Lead.objects.unscoped()
        .filter(email_normalized__icontains="example.com")
        .query.sql_with_params()
    )
    assert "lead_email_trgm" in _plan(sql, params)


def test_the_exact_lookup_never_uses_the_trigram_index(postgresql, org):
    LeadFactory(org=org, email="ada@example.com")
    assert list(_existing_by_email(org, ["ada@example.com", "none@example.com"])) == [
        "ada@example.com"
    ]
    # Without its btree (dropped in this test's transaction only), no index is left that
    # answers equality on the e-mail: PostgreSQL must not turn to the trigram one.
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX lead_org_email_idx")
    plan = _plan(
        "SELECT email_normalized, id FROM leads_lead WHERE email_normalized = ANY(%s)",
        [["ada@example.com"]],
    )
    assert "lead_email_trgm" not in plan, plan
