"""The lead tallies (leads.models.LeadTally) equal the real counts after every write path:
the API's create, PATCH (status, assignees), delete and conversion, imports (new and
updated leads), capture, plain ORM writes (factories, link tables), a user's deletion, and
a rolled-back write. The unfiltered lists answer them as their counts."""

import contextlib
import random
import threading
import time
from collections import Counter

import pytest
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.db.models import Sum
from rest_framework.test import APIClient

from leads.imports.services import import_job_run
from leads.models import Lead, LeadTally
from tests.capture.factories import ApiKeyFactory
from tests.concurrency import run_in_threads
from tests.factories import LeadFactory, MembershipFactory, TagFactory, UserFactory, member_users
from tests.imports.conftest import csv_bytes, upload

pytestmark = pytest.mark.django_db


def real_counts(org) -> Counter:
    """(kind, subject, status) -> leads, counted from the leads: the organization's; each
    member's (created by or assigned to them, once); each assignee's; each tag's."""
    counts: Counter = Counter()
    for lead in Lead.objects.for_org(org).prefetch_related("assigned_to", "tags"):
        assignees = {user.pk for user in lead.assigned_to.all()}
        members = assignees | ({lead.created_by_id} if lead.created_by_id else set())
        pairs = [("all", LeadTally.EVERYONE)]
        pairs += [("member", member) for member in members]
        pairs += [("assignee", user) for user in assignees]
        pairs += [("tag", tag.pk) for tag in lead.tags.all()]
        for kind, subject in pairs:
            counts[(kind, subject, lead.status)] += 1
    return counts


def kept_counts(org) -> Counter:
    rows = (
        LeadTally.objects.for_org(org)
        .values_list("kind", "subject", "status")
        .annotate(total=Sum("n"))
        .values_list("kind", "subject", "status", "total")
    )
    return Counter({(kind, subject, status): n for kind, subject, status, n in rows if n})


def assert_tallies_match(org):
    assert kept_counts(org) == real_counts(org)


@pytest.fixture
def member(org):
    return MembershipFactory(org=org)


def test_api_create_patch_and_delete(admin_client, admin_membership, member, org):
    created = admin_client.post(
        "/api/leads/",
        {
            "first_name": "A",
            "last_name": "B",
            "assigned_to": [str(member.user_id)],
            "tags": ["vip", "new"],
        },
        format="json",
    ).json()
    assert_tallies_match(org)
    url = f"/api/leads/{created['id']}/"
    assert admin_client.patch(url, {"status": "closed"}, format="json").status_code == 200
    assert_tallies_match(org)
    # The creator assigned too: counted once for them.
    assignees = [str(member.user_id), str(admin_membership.user_id)]
    assert admin_client.patch(url, {"assigned_to": assignees}, format="json").status_code == 200
    assert_tallies_match(org)
    response = admin_client.patch(
        url,
        {"assigned_to": [], "tags": ["vip"], "status": "in process", "city": "Oslo"},
        format="json",
    )
    assert response.status_code == 200
    assert_tallies_match(org)
    assert admin_client.delete(url).status_code == 204
    assert_tallies_match(org)
    assert kept_counts(org) == Counter()


def test_api_conversion_and_auto_convert(admin_client, member, org):
    lead = admin_client.post(
        "/api/leads/",
        {
            "first_name": "A",
            "last_name": "B",
            "account_name": "Acme",
            "assigned_to": [str(member.user_id)],
        },
        format="json",
    ).json()
    assert admin_client.post(f"/api/leads/{lead['id']}/convert/").status_code == 201
    assert_tallies_match(org)
    response = admin_client.post(
        "/api/leads/",
        {"first_name": "C", "last_name": "D", "account_name": "Initech", "auto_convert": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert_tallies_match(org)
    assert kept_counts(org)[("all", LeadTally.EVERYONE, "converted")] == 2


def test_imports_of_new_and_updated_leads(admin_client, member, org):
    email = member.user.email
    rows = [["first_name", "last_name", "email", "status", "assigned_to"]] + [
        ["Lead", str(n), f"lead{n}@example.com", "closed" if n % 3 else "assigned", email]
        for n in range(9)
    ]
    assert upload(admin_client, csv_bytes(rows))["imported_count"] == 9
    assert_tallies_match(org)
    other = MembershipFactory(org=org).user.email
    rows = [["first_name", "last_name", "email", "status", "assigned_to"]] + [
        ["Lead", str(n), f"lead{n}@example.com", "in process", other] for n in range(5)
    ]
    job = upload(admin_client, csv_bytes(rows), on_duplicate="update")
    assert job["updated_count"] == 5, job
    assert_tallies_match(org)


def test_capture(org):
    member = MembershipFactory(org=org)
    key = ApiKeyFactory(org=org)
    key.default_assigned_to.set([member.user])
    response = APIClient().post(
        f"/api/leads/create-from-site/?apikey={key.secret}",
        {"first_name": "Site", "last_name": "Visitor", "email": "v@site.example"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert_tallies_match(org)
    assert kept_counts(org)[("assignee", member.user_id, "assigned")] == 1


def test_orm_writes_links_and_a_users_deletion(org, other_org):
    creator, assignee = UserFactory(), UserFactory()
    leads = LeadFactory.create_batch(3, org=org, created_by=creator)
    LeadFactory(org=other_org, created_by=creator)
    leads[0].assigned_to.add(assignee, creator)
    leads[1].assigned_to.add(assignee)
    vip, cold = TagFactory(org=org), TagFactory(org=org)
    leads[0].tags.add(vip, cold)
    leads[2].tags.add(vip)
    assert_tallies_match(org)
    leads[0].tags.remove(cold)
    assert_tallies_match(org)
    Lead.objects.for_org(org).filter(pk=leads[1].pk).update(status="recycled")
    leads[0].assigned_to.remove(creator)
    leads[1].assigned_to.clear()
    assert_tallies_match(org)
    creator.delete()  # created_by becomes NULL
    assert_tallies_match(org)
    assert_tallies_match(other_org)
    Lead.objects.for_org(org).filter(pk__in=[lead.pk for lead in leads[:2]]).delete()
    assert_tallies_match(org)


def test_a_rolled_back_write_leaves_the_tallies(org):
    LeadFactory(org=org)
    before = kept_counts(org)
    with pytest.raises(RuntimeError), transaction.atomic():
        LeadFactory.create_batch(2, org=org, status="closed")
        raise RuntimeError
    assert kept_counts(org) == before


def test_unfiltered_lists_answer_the_tallies(admin_client, user_client, user_membership, org):
    user = user_membership.user
    LeadFactory.create_batch(3, org=org)
    LeadFactory(org=org, status="closed", created_by=user)
    LeadFactory(org=org, status="converted", created_by=user)
    LeadFactory(org=org).assigned_to.add(user)
    body = admin_client.get("/api/leads/").json()
    assert (body["open_leads_count"], body["closed_leads_count"], body["counts_exact"]) == (
        4,
        1,
        True,
    )
    body = user_client.get("/api/leads/").json()
    assert (body["open_leads_count"], body["closed_leads_count"], body["counts_exact"]) == (
        1,
        1,
        True,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writes_keep_the_tallies(org):
    """Writers that change the same leads' statuses, assignees and tags at once (each
    holding its transaction open a little): the tallies still equal the real counts."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent PostgreSQL transactions")
    users = member_users(org, 3)
    tags = [TagFactory(org=org) for _ in range(2)]
    leads = [LeadFactory(org=org, created_by=users[n % 3]) for n in range(4)]
    Assignee, Tagged = Lead.assigned_to.through, Lead.tags.through
    barrier = threading.Barrier(4, timeout=20)
    committed, failures = [], []

    def write(seed):
        rng = random.Random(seed)
        try:
            for _ in range(12):
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait()
                lead, user, tag = rng.choice(leads), rng.choice(users), rng.choice(tags)
                operation = rng.choice(["status", "assign", "unassign", "tag", "untag"])
                try:
                    with transaction.atomic():
                        if operation == "status":
                            status = rng.choice(["assigned", "in process", "closed", "recycled"])
                            Lead.objects.for_org(org).filter(pk=lead.pk).update(status=status)
                        elif operation == "assign":
                            Assignee.objects.create(lead_id=lead.pk, user_id=user.pk)
                        elif operation == "unassign":
                            Assignee.objects.filter(lead_id=lead.pk, user_id=user.pk).delete()
                        elif operation == "tag":
                            Tagged.objects.create(lead_id=lead.pk, tag_id=tag.pk)
                        else:
                            Tagged.objects.filter(lead_id=lead.pk, tag_id=tag.pk).delete()
                        time.sleep(rng.random() / 50)
                    committed.append(operation)
                except IntegrityError:  # a link that another writer made first
                    pass
                except DatabaseError as error:  # a deadlock, say: never expected
                    failures.append(f"{operation}: {error}")
        finally:
            connection.close()

    run_in_threads(write, [(seed,) for seed in range(4)])
    assert not failures
    assert len(committed) >= 12, committed  # most writes commit; links may collide
    assert_tallies_match(org)


TALLY_UPSERT = """
    INSERT INTO leads_leadtally (id, org_id, kind, subject, status, shard, n)
    SELECT gen_random_uuid(), %s, 'all', %s, status, shard, 0
    FROM unnest(%s::text[]) AS status, generate_series(0, 7) AS shard
    ON CONFLICT (org_id, kind, subject, status, shard) DO UPDATE SET n = leads_leadtally.n
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_import_chunk_waits_for_an_edited_lead_before_it_takes_any_tally_row(
    admin_client, org, monkeypatch
):
    """A lead edit holds its lead, then its triggers write the organization's tally rows.
    An import chunk that updates the same lead must wait for that lead while holding no
    tally row, or each would wait for the other: a deadlock that PostgreSQL ends by
    failing one of them. The edit here writes every shard of the organization-wide rows,
    which any write of a lead takes."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent PostgreSQL transactions")
    monkeypatch.setattr("outbox.services._publish_after_commit", lambda message_id: None)
    lead = LeadFactory(org=org, email="taken@example.com")
    rows = [["first_name", "last_name", "email", "city"]]
    rows += [["Taken", "Lead", "taken@example.com", "Oslo"]]
    rows += [["New", str(n), f"new{n}@example.com", "Rome"] for n in range(3)]
    job = upload(admin_client, csv_bytes(rows), on_duplicate="update")
    edit_holds_lead, chunk_waits = threading.Event(), threading.Event()
    outcome: dict = {}

    def edit():
        try:
            with transaction.atomic():
                Lead.objects.for_org(org).select_for_update().get(pk=lead.pk)
                edit_holds_lead.set()
                assert chunk_waits.wait(20), "the import never waited for the lead"
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '5s'")
                    statuses = ["assigned", "in process", "recycled", "closed", "converted"]
                    cursor.execute(TALLY_UPSERT, [org.pk, LeadTally.EVERYONE, statuses])
                Lead.objects.for_org(org).filter(pk=lead.pk).update(status="in process")
            outcome["edit"] = "committed"
        except OperationalError as error:
            outcome["edit"] = str(error)
        finally:
            connection.close()

    def run_import():
        try:
            outcome["job"] = import_job_run(job_id=job["id"])
        except DatabaseError as error:  # a deadlock fails the chunk
            outcome["import"] = str(error)
        finally:
            connection.close()

    editor = threading.Thread(target=edit)
    editor.start()
    assert edit_holds_lead.wait(10)
    importer = threading.Thread(target=run_import)
    importer.start()
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while not chunk_waits.is_set() and time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                chunk_waits.set()
            else:
                time.sleep(0.05)
    editor.join(30)
    importer.join(30)
    assert outcome.get("edit") == "committed" and "job" in outcome, outcome
    done = outcome["job"]
    assert (done.status, done.imported_count, done.updated_count) == ("success", 3, 1)
    lead.refresh_from_db()
    assert (lead.status, lead.city) == ("in process", "Oslo")
    assert_tallies_match(org)


def _two_connections_on_one_shard():
    """Two new PostgreSQL connections whose backends write the same tally shard
    (mod(pg_backend_pid(), 8)); of nine, two always share one."""
    import psycopg2

    opened = [psycopg2.connect(**connection.get_connection_params()) for _ in range(9)]
    by_shard: dict = {}
    for candidate in opened:
        by_shard.setdefault(candidate.get_backend_pid() % 8, []).append(candidate)
    pair = next(group for group in by_shard.values() if len(group) > 1)[:2]
    for candidate in opened:
        if candidate not in pair:
            candidate.close()
    return pair


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_lead_edits_on_one_tally_shard_wait_for_each_other_never_deadlock(org):
    """Two edits of one organization whose connections share a tally shard, each writing
    tallies in two statements (a tag added, then a status changed), the second starting
    between the first's two: it waits for the first to commit, holding no tally row the
    first needs. Both edits are kept."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent PostgreSQL transactions")
    import psycopg2

    vip = TagFactory(org=org, name="vip")
    first_lead, second_lead = LeadFactory(org=org), LeadFactory(org=org)
    second_lead.tags.add(vip)
    first, second = _two_connections_on_one_shard()
    close_status = "UPDATE leads_lead SET status = 'closed' WHERE id = %s"
    outcome: dict = {}

    def edit(name, session, statement, lead):
        try:
            with session.cursor() as cursor:
                cursor.execute(statement, [lead.pk])
            session.commit()
            outcome[name] = "committed"
        except psycopg2.Error as error:
            session.rollback()
            outcome[name] = str(error).splitlines()[0]

    try:
        with first.cursor() as cursor:
            cursor.execute(
                "INSERT INTO leads_lead_tags (lead_id, tag_id) VALUES (%s, %s)",
                [first_lead.pk, vip.pk],
            )
        waiter = threading.Thread(target=edit, args=("second", second, close_status, second_lead))
        waiter.start()
        deadline = time.monotonic() + 10
        with first.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                    [second.get_backend_pid()],
                )
                if cursor.fetchone()[0] == "Lock":
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the second edit never waited")
        edit("first", first, close_status, first_lead)
        waiter.join(30)
    finally:
        first.close()
        second.close()
    assert outcome == {"first": "committed", "second": "committed"}
    assert Lead.objects.for_org(org).filter(status="closed").count() == 2
    assert_tallies_match(org)


def test_a_tag_filter_in_another_case_reads_the_same_tally(admin_client, org):
    vip = TagFactory(org=org, name="VIP")
    LeadFactory(org=org).tags.add(vip)
    LeadFactory(org=org, status="closed").tags.add(vip)
    LeadFactory(org=org)
    for name in ("vip", "VIP", " Vip "):
        body = admin_client.get("/api/leads/", {"tags": name}).json()
        counts = (body["open_leads_count"], body["closed_leads_count"], body["counts_exact"])
        assert counts == (1, 1, True), name
    body = admin_client.get("/api/leads/", {"tags": "nope"}).json()
    assert (body["open_leads_count"], body["closed_leads_count"]) == (0, 0)
