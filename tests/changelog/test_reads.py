"""A lead's history, the organization's feed, the request id, and If-Match."""

from datetime import timedelta

import pytest
from django.utils import timezone

from changelog.models import Event
from tests.changelog.factories import EventFactory
from tests.concurrency import run_in_threads
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settled(settings):
    settings.CHANGE_FEED_SETTLE_SECONDS = 0


# -- history ----------------------------------------------------------------------------


def test_history_is_newest_first_and_pages_with_a_cursor(admin_client, org):
    lead = LeadFactory(org=org, city="A")
    for city in ["B", "C", "D", "E"]:
        admin_client.patch(f"/api/leads/{lead.pk}/", {"city": city}, format="json")
    first = admin_client.get(f"/api/leads/{lead.pk}/history/?limit=3").json()
    assert [e["changes"]["city"] for e in first["results"]] == [["D", "E"], ["C", "D"], ["B", "C"]]
    entry = first["results"][0]
    assert set(entry) >= {"id", "at", "actor", "channel", "action", "changes"}
    assert entry["actor"]["type"] == "user" and entry["channel"] == "api"
    rest = admin_client.get(f"/api/leads/{lead.pk}/history/?limit=3&cursor={first['next']}")
    assert [e["changes"]["city"] for e in rest.json()["results"]] == [["A", "B"]]
    assert rest.json()["next"] is None


def test_history_keeps_the_changes_of_one_field(admin_client, org):
    lead = LeadFactory(org=org)
    admin_client.patch(f"/api/leads/{lead.pk}/", {"city": "Rome"}, format="json")
    admin_client.patch(f"/api/leads/{lead.pk}/", {"status": "in process"}, format="json")
    body = admin_client.get(f"/api/leads/{lead.pk}/history/?field=status").json()
    assert [e["changes"] for e in body["results"]] == [{"status": ["assigned", "in process"]}]


def test_a_user_sees_the_history_of_their_leads_only(user_client, user_membership, org):
    mine = LeadFactory(org=org)
    mine.assigned_to.set([user_membership.user])
    theirs = LeadFactory(org=org)
    EventFactory(org=org, lead_id=theirs.pk)
    assert user_client.get(f"/api/leads/{mine.pk}/history/").status_code == 200
    response = user_client.get(f"/api/leads/{theirs.pk}/history/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_cursor_that_is_not_ours_is_a_400(admin_client, org):
    lead = LeadFactory(org=org)
    response = admin_client.get(f"/api/leads/{lead.pk}/history/?cursor=bm90LWEtY3Vyc29y")
    assert response.status_code == 400
    assert "cursor" in response.json()["fields"]


# -- feed -------------------------------------------------------------------------------


def test_the_feed_is_for_admins(user_client):
    response = user_client.get("/api/events/")
    assert response.status_code == 403


def test_the_feed_walks_oldest_first_and_filters_types(admin_client, org):
    base = timezone.now() - timedelta(minutes=10)
    made = [
        EventFactory(org=org, type=kind, occurred_at=base + timedelta(seconds=i))
        for i, kind in enumerate(["lead.created", "lead.updated", "lead.created", "lead.deleted"])
    ]
    page = admin_client.get("/api/events/?limit=2").json()
    assert [e["id"] for e in page["results"]] == [str(made[0].pk), str(made[1].pk)]
    assert page["has_more"] is True
    rest = admin_client.get(f"/api/events/?limit=2&after={page['next']}").json()
    assert [e["id"] for e in rest["results"]] == [str(made[2].pk), str(made[3].pk)]
    # At the end, `next` is where to ask again: a later event comes from there.
    end = admin_client.get(f"/api/events/?after={rest['next']}").json()
    assert end["results"] == [] and end["next"] == rest["next"] and end["has_more"] is False
    later = EventFactory(org=org, type="lead.updated", occurred_at=base + timedelta(minutes=5))
    assert [
        e["id"] for e in admin_client.get(f"/api/events/?after={rest['next']}").json()["results"]
    ] == [str(later.pk)]
    created = admin_client.get("/api/events/?types=lead.created,lead.deleted").json()
    assert [e["type"] for e in created["results"]] == [
        "lead.created",
        "lead.created",
        "lead.deleted",
    ]


def test_an_unknown_type_is_a_400(admin_client):
    response = admin_client.get("/api/events/?types=lead.exploded")
    assert response.status_code == 400
    assert "types" in response.json()["fields"]


def test_the_feed_waits_for_events_to_settle(admin_client, org, settings):
    """An event is stamped just before its transaction commits; a reader must not move its
    cursor past a moment at which another transaction may still be committing."""
    settings.CHANGE_FEED_SETTLE_SECONDS = 30
    old = EventFactory(org=org, occurred_at=timezone.now() - timedelta(minutes=1))
    EventFactory(org=org)  # just now: not yet in the feed
    page = admin_client.get("/api/events/").json()
    assert [e["id"] for e in page["results"]] == [str(old.pk)]


def test_the_feed_shows_only_the_organizations_events(admin_client, org, other_org):
    EventFactory(org=other_org, occurred_at=timezone.now() - timedelta(minutes=1))
    assert admin_client.get("/api/events/").json()["results"] == []


# -- request id ---------------------------------------------------------------------------


def test_a_sane_request_id_is_echoed_and_recorded(admin_client, org):
    response = admin_client.post(
        "/api/leads/", {"first_name": "A", "last_name": "B"}, HTTP_X_REQUEST_ID="abc-123"
    )
    assert response["X-Request-ID"] == "abc-123"
    assert Event.objects.for_org(org).get().request_id == "abc-123"


@pytest.mark.parametrize("sent", ["", "has space", "x" * 65, "semi;colon", "\u00e9t\u00e9"])
def test_anything_else_is_replaced_by_a_new_id(admin_client, sent):
    response = admin_client.get("/api/health/", HTTP_X_REQUEST_ID=sent)
    echoed = response["X-Request-ID"]
    assert echoed != sent and len(echoed) == 32
    assert admin_client.get("/api/health/")["X-Request-ID"] != echoed


# -- If-Match -----------------------------------------------------------------------------


def test_a_stale_if_match_is_a_412_and_changes_nothing(admin_client, org):
    lead = LeadFactory(org=org, city="Lyon")
    read = admin_client.get(f"/api/leads/{lead.pk}/")
    etag = read["ETag"]
    first = admin_client.patch(
        f"/api/leads/{lead.pk}/", {"city": "Paris"}, format="json", HTTP_IF_MATCH=etag
    )
    assert first.status_code == 200
    assert first["ETag"] != etag
    # A second client that read the same version loses instead of overwriting.
    second = admin_client.patch(
        f"/api/leads/{lead.pk}/", {"city": "Rome"}, format="json", HTTP_IF_MATCH=etag
    )
    assert second.status_code == 412
    assert second.json()["code"] == "precondition_failed"
    lead.refresh_from_db()
    assert lead.city == "Paris"
    assert admin_client.delete(f"/api/leads/{lead.pk}/", HTTP_IF_MATCH=etag).status_code == 412
    assert (
        admin_client.put(
            f"/api/leads/{lead.pk}/", {"city": "Oslo"}, format="json", HTTP_IF_MATCH=first["ETag"]
        ).status_code
        == 200
    )


def test_the_etag_moves_when_only_a_relation_changes(admin_client, admin_membership, org):
    lead = LeadFactory(org=org)
    etag = admin_client.get(f"/api/leads/{lead.pk}/")["ETag"]
    admin_client.patch(f"/api/leads/{lead.pk}/", {"tags": ["vip"]}, format="json")
    assert admin_client.get(f"/api/leads/{lead.pk}/")["ETag"] != etag


def test_without_if_match_writes_are_unconditional(admin_client, org):
    lead = LeadFactory(org=org)
    response = admin_client.patch(f"/api/leads/{lead.pk}/", {"city": "Rome"}, format="json")
    assert response.status_code == 200
    assert admin_client.delete(f"/api/leads/{lead.pk}/", HTTP_IF_MATCH="*").status_code == 204


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_version_one_wins_the_others_get_412(admin_membership, org):
    import threading

    from django.db import connection

    from tests.conftest import client_for

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    lead = LeadFactory(org=org, city="Start")
    etag = client_for(admin_membership).get(f"/api/leads/{lead.pk}/")["ETag"]
    statuses, start = [], threading.Barrier(8)

    def write(number):
        try:
            client = client_for(admin_membership)
            start.wait()
            statuses.append(
                client.patch(
                    f"/api/leads/{lead.pk}/",
                    {"city": f"City {number}"},
                    format="json",
                    HTTP_IF_MATCH=etag,
                ).status_code
            )
        finally:
            connection.close()

    run_in_threads(write, [(n,) for n in range(8)])
    assert sorted(statuses) == [200] + [412] * 7
    winner = Event.objects.for_org(org).get(type="lead.updated")
    lead.refresh_from_db()
    assert winner.changes["city"] == ["Start", lead.city]


def test_history_and_feed_pages_cost_the_same_queries_whatever_their_size(admin_client, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lead = LeadFactory(org=org)
    old = timezone.now() - timedelta(minutes=1)

    def cost(url):
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return len(queries)

    EventFactory(org=org, lead_id=lead.pk, occurred_at=old)
    small = cost(f"/api/leads/{lead.pk}/history/"), cost("/api/events/")
    for _ in range(60):
        EventFactory(org=org, lead_id=lead.pk, occurred_at=old)
    page = admin_client.get(f"/api/leads/{lead.pk}/history/?limit=20").json()
    large = (
        cost(f"/api/leads/{lead.pk}/history/?cursor={page['next']}"),
        cost("/api/events/?types=lead.updated"),
    )
    assert small == large
