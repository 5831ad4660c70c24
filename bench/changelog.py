"""Change-log reads at scale: a lead's history and the organization's feed over a million
events.

Seeds BENCH_CHANGELOG_EVENTS events (default 1,000,000) with COPY into one organization
(plus a tenth as many in a second one, so that the organization filter has something to
skip), spread over a year on BENCH_CHANGELOG_LEADS leads (default 20,000) and one "hot" lead
with 5,000 events, then times the API's pages in-process (Django's test client: the view,
serializer and SQL, without a network) and counts their queries:

- history: first page, a page 20 pages deep (through cursors), `?field=status`, the hot lead
- feed: first page, a page from a cursor in the middle, `?types=lead.converted` (1% of events)

Command (creates and migrates the database itself; reuses its events when already seeded):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_changelog python -m bench changelog
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench.database import ensure_postgres_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_changelog"
TYPES = [
    ("lead.updated", "updated", 70),
    ("lead.created", "created", 10),
    ("lead.assigned", "assigned", 9),
    ("lead.updated", "commented", 10),
    ("lead.converted", "converted", 1),
]
ROUNDS = 30


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django

    django.setup()


def _events(org_id, leads: list, count: int, hot, start: datetime):
    weighted = [(t, a) for t, a, weight in TYPES for _ in range(weight)]
    step = timedelta(days=365) / count
    rng = random.Random(7)
    for index in range(count):
        kind, action = rng.choice(weighted)
        lead = hot if index % 200 == 0 else rng.choice(leads)
        changes = (
            {"status": ["assigned", "in process"]}
            if rng.random() < 0.3
            else {"city": ["Paris", "Lyon"], "title": ["", "CTO"]}
        )
        yield (
            str(uuid.uuid4()),
            str(org_id),
            (start + step * index).isoformat(),
            kind,
            action,
            str(lead),
            "user",
            "42",
            "Bench User",
            "api",
            json.dumps(changes),
            "",
        )


def _seed(org_id, count: int, leads: list, hot) -> None:
    from django.db import connection

    columns = (
        "id, org_id, occurred_at, type, action, lead_id, actor_type, actor_id, actor_name, "
        "channel, changes, request_id"
    )
    start = datetime(2025, 1, 1, tzinfo=UTC)
    batch = 200_000
    with connection.cursor() as cursor:
        for offset in range(0, count, batch):
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(
                _events(org_id, leads, min(batch, count - offset), hot, start)
            )
            start += timedelta(days=365) * min(batch, count - offset) / count
            buffer.seek(0)
            cursor.cursor.copy_expert(
                f"COPY changelog_event ({columns}) FROM STDIN WITH (FORMAT csv, "
                "FORCE_NOT_NULL (actor_id, actor_name, request_id))",
                buffer,
            )
        cursor.execute("ANALYZE changelog_event")


def _measure(client, label: str, url: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, queries = [], 0
    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.content[:300])
        queries = len(captured.captured_queries)
    timings.sort()
    result = {
        "page": label,
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
        "queries": queries,
        "results": len(response.json()["results"]),
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    count = int(os.environ.get("BENCH_CHANGELOG_EVENTS", "1000000"))
    lead_count = int(os.environ.get("BENCH_CHANGELOG_LEADS", "20000"))
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        database_url = DEFAULT_DATABASE_URL
    ensure_postgres_database(database_url)
    _setup_django(database_url)
    from django.conf import settings
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from changelog.models import Event
    from common.models import Membership, Organization, Role, User
    from leads.models import Lead

    settings.CHANGE_FEED_SETTLE_SECONDS = 0
    call_command("migrate", verbosity=0, interactive=False)
    org = Organization.objects.filter(name="Bench change log").first()
    if org is None or Event.objects.for_org(org).count() < count:
        org = Organization.objects.create(name="Bench change log")
        other = Organization.objects.create(name="Bench change log (other)")
        user = User.objects.create_user(f"bench-{org.pk}@example.com", "bench-password")
        Membership.objects.create(org=org, user=user, role=Role.ADMIN)
        leads = [Lead(org=org, first_name="L", last_name=str(i)) for i in range(lead_count)]
        Lead.objects.bulk_create(leads, batch_size=5000)
        lead_ids = [lead.pk for lead in leads]
        began = time.perf_counter()
        _seed(org.pk, count, lead_ids[1:], lead_ids[0])
        _seed(other.pk, count // 10, [uuid.uuid4() for _ in range(100)], uuid.uuid4())
        print(f"seeded {count + count // 10} events in {time.perf_counter() - began:.0f} s")
    user = Membership.objects.for_org(org).select_related("user").first().user
    leads = list(Lead.objects.for_org(org).order_by("last_name").values_list("pk", flat=True)[:2])
    hot, lead = leads[0], leads[1]

    client = APIClient()
    client.force_authenticate(user)
    client.credentials(HTTP_ORGANIZATION_ID=str(org.pk))

    history = f"/api/leads/{lead}/history/"
    _measure(client, "history, first page", history)
    _measure(client, "history, ?field=status", history + "?field=status")
    deep, url = None, f"/api/leads/{hot}/history/?limit=50"
    for _ in range(20):
        deep = client.get(url).json()["next"] or deep
        url = f"/api/leads/{hot}/history/?limit=50&cursor={deep}"
    _measure(client, "history of the hot lead (5,000 events), page 21", url)
    _measure(client, "feed, first page (100)", "/api/events/")
    middle = Event.objects.for_org(org).order_by("occurred_at", "id")[count // 2]
    from changelog.selectors import cursor_encode

    _measure(client, "feed, from the middle", f"/api/events/?after={cursor_encode(middle)}")
    _measure(client, "feed, ?types=lead.converted", "/api/events/?types=lead.converted")
    _measure(
        client,
        "feed, ?types=lead.converted from the middle",
        f"/api/events/?types=lead.converted&after={cursor_encode(middle)}",
    )
