"""Faults where the database and the broker disagree, with a real PostgreSQL, Redis,
Celery worker and relay: nothing acknowledged is lost, doubled or left stuck, and work
recovers within seconds (not the broker's one-hour visibility timeout)."""

import signal
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from capture.models import ApiKey  # noqa: F401 - the factory's model
from common.models import Role
from leads.imports.models import ImportJob
from leads.models import Lead
from outbox.models import OutboxMessage
from tests.capture.factories import ApiKeyFactory
from tests.conftest import client_for
from tests.durability import services as svc
from tests.factories import MembershipFactory, OrganizationFactory
from tests.imports.conftest import UPLOAD_URL, csv_bytes

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SITE = "/api/leads/create-from-site/"
SUBJECT = "Subject: Lead assigned to you"


def _rows(count: int, prefix: str = "lead"):
    return [["first_name", "last_name", "email"]] + [
        ["Lead", str(n), f"{prefix}{n}@example.com"] for n in range(count)
    ]


def _upload(client, rows, name="leads.csv"):
    return client.post(
        UPLOAD_URL, {"leads_file": SimpleUploadedFile(name, csv_bytes(rows))}, format="multipart"
    )


def _job(job_id) -> ImportJob:
    return ImportJob.objects.unscoped().get(pk=job_id)


def _finished(job_id):
    job = _job(job_id)
    return job if job.is_finished else None


def _sent(mail_dir) -> int:
    return sum(text.count(SUBJECT) for text in svc.mails(mail_dir))


@pytest.fixture
def team(org):
    admin = MembershipFactory(org=org, role=Role.ADMIN)
    member = MembershipFactory(org=org, role=Role.USER)
    return admin, member


@pytest.fixture
def upkeep(tmp_path, fault_redis):
    """Start a worker and the relay on demand; both stopped at the end."""
    started = []
    mail_dir = tmp_path / "mail"
    logs = [tmp_path / "worker.log", tmp_path / "relay.log"]

    def start(worker=True, relay=True, **env_extra):
        env = svc.service_env(
            broker=fault_redis.url, database=svc.database_url(), mail_dir=mail_dir, **env_extra
        )
        if worker:
            started.append(svc.start_worker(env, logs[0]))
        if relay:
            started.append(svc.start_relay(env, logs[1]))
        return env

    start.mail_dir = mail_dir
    start.logs = logs
    yield start
    for process in started:
        svc.stop(process)


def test_broker_down_requests_succeed_once_and_are_delivered_when_it_returns(
    web_broker, upkeep, org, team
):
    admin, member = team
    client = client_for(admin)
    api_key = ApiKeyFactory(org=org)
    api_key.default_assigned_to.set([member.user])
    web_broker.kill()

    started = time.monotonic()
    created = client.post(
        "/api/leads/",
        {"first_name": "A", "last_name": "B", "assigned_to": [str(member.user_id)]},
        format="json",
    )
    captured = APIClient().post(
        f"{SITE}?apikey={api_key.secret}",
        {"first_name": "C", "last_name": "D", "email": "c@example.com"},
        format="json",
    )
    uploaded = _upload(client, _rows(30))
    elapsed = time.monotonic() - started

    # Every write is acknowledged, durable, and answered quickly: no 500, so no client retry
    # and no second lead.
    assert (created.status_code, captured.status_code, uploaded.status_code) == (201, 201, 202)
    assert elapsed < 10
    assert Lead.objects.for_org(org).count() == 2
    pending = OutboxMessage.objects.filter(published_on__isnull=True)
    assert pending.count() == 3 and all(m.attempts == 1 for m in pending)

    web_broker.start()
    back = time.monotonic()
    upkeep()
    job = svc.wait_for(lambda: _finished(uploaded.json()["id"]), 30, "the import", upkeep.logs)
    svc.wait_for(lambda: _sent(upkeep.mail_dir) == 2, 30, "two e-mails", upkeep.logs)
    assert time.monotonic() - back < 30
    assert (job.status, job.imported_count) == ("success", 30)
    assert Lead.objects.for_org(org).count() == 32

    # Delivered again (a relay that died before marking them): nothing happens twice.
    OutboxMessage.objects.update(published_on=None)
    svc.wait_for(
        lambda: not OutboxMessage.objects.filter(published_on__isnull=True).exists(),
        15,
        "the republish",
        upkeep.logs,
    )
    time.sleep(2)
    assert _sent(upkeep.mail_dir) == 2
    assert Lead.objects.for_org(org).count() == 32


def test_web_process_dying_between_commit_and_publish_loses_nothing(
    web_broker, upkeep, org, team, monkeypatch
):
    admin, member = team
    client = client_for(admin)
    # The process "dies" right after its commits: the publish never happens.
    monkeypatch.setattr("outbox.services._publish_after_commit", lambda message_id: None)
    created = client.post(
        "/api/leads/",
        {"first_name": "A", "last_name": "B", "assigned_to": [str(member.user_id)]},
        format="json",
    )
    uploaded = _upload(client, _rows(20))
    assert (created.status_code, uploaded.status_code) == (201, 202)
    assert OutboxMessage.objects.filter(published_on__isnull=True).count() == 2

    upkeep()
    job = svc.wait_for(lambda: _finished(uploaded.json()["id"]), 30, "the import", upkeep.logs)
    svc.wait_for(lambda: _sent(upkeep.mail_dir) == 1, 20, "the e-mail", upkeep.logs)
    assert (job.status, job.imported_count) == ("success", 20)
    assert Lead.objects.for_org(org).count() == 21


def test_redis_restarted_without_its_data_loses_no_queued_import_or_e_mail(
    web_broker, upkeep, org, team
):
    admin, member = team
    client = client_for(admin)
    uploaded = _upload(client, _rows(25))
    created = client.post(
        "/api/leads/",
        {"first_name": "A", "last_name": "B", "assigned_to": [str(member.user_id)]},
        format="json",
    )
    assert (uploaded.status_code, created.status_code) == (202, 201)
    # Both messages are in Redis (published), then lost with it.
    assert not OutboxMessage.objects.filter(published_on__isnull=True).exists()

    web_broker.kill()
    web_broker.start()
    restarted = time.monotonic()
    upkeep()
    job = svc.wait_for(lambda: _finished(uploaded.json()["id"]), 30, "the import", upkeep.logs)
    svc.wait_for(lambda: _sent(upkeep.mail_dir) == 1, 30, "the e-mail", upkeep.logs)
    assert (job.status, job.imported_count) == ("success", 25)
    assert time.monotonic() - restarted < 20
    assert Lead.objects.for_org(org).count() == 26
    time.sleep(3)  # past another redelivery period: the consumed e-mail is not sent again
    assert _sent(upkeep.mail_dir) == 1


ROWS = 30_000
CHUNK = 500


def test_worker_sigterm_stops_at_the_next_chunk_and_requeues(
    web_broker, upkeep, tmp_path, org, team
):
    env = upkeep(worker=False, relay=False, IMPORT_CHUNK_ROWS=CHUNK)
    log = tmp_path / "sigterm-worker.log"
    first = svc.start_worker(env, log, pool="prefork")
    second = None
    try:
        uploaded = _upload(client_for(team[0]), _rows(ROWS))
        job_id = uploaded.json()["id"]
        svc.wait_for(lambda: _job(job_id).rows_done >= 2 * CHUNK, 60, "two chunks", [log])
        # `docker stop`: SIGTERM to the worker's main process (warm shutdown).
        first.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        first.wait(timeout=15)
        stopped = _job(job_id)
        assert time.monotonic() - asked < 10
        assert stopped.status == "queued", "the import finished before the stop: grow ROWS"
        assert 0 < stopped.rows_done < ROWS and stopped.rows_done % CHUNK == 0
        assert Lead.objects.for_org(org).count() == stopped.imported_count
        # Its message is back in the queue: the next worker resumes from the checkpoint.
        second = svc.start_worker(env, log)
        done = svc.wait_for(lambda: _finished(job_id), 90, "the import", [log])
    finally:
        svc.stop(first)
        svc.stop(second)
    assert (done.status, done.imported_count, done.rows_done) == ("success", ROWS, ROWS)
    emails = list(Lead.objects.for_org(org).values_list("email_normalized", flat=True))
    assert len(emails) == len(set(emails)) == ROWS


def test_one_organizations_backlog_delays_anothers_import_by_at_most_one_chunk(
    web_broker, upkeep, org, team
):
    chunk = 200
    busy = client_for(team[0])
    small_org = OrganizationFactory(name="Small")
    small = client_for(MembershipFactory(org=small_org, role=Role.ADMIN))
    backlog = [_upload(busy, _rows(6 * chunk, f"b{n}-")).json()["id"] for n in range(3)]
    mine = _upload(small, _rows(50, "small")).json()["id"]

    upkeep(relay=False, IMPORT_CHUNK_ROWS=chunk)  # one solo worker: a single import slot
    done = svc.wait_for(lambda: _finished(mine), 60, "the small import", upkeep.logs)
    others = [_job(job_id) for job_id in backlog]
    assert done.status == "success" and done.imported_count == 50
    assert sum(job.rows_done for job in others) <= chunk
    assert not any(job.is_finished for job in others)

    for job_id in backlog:
        job = svc.wait_for(lambda job_id=job_id: _finished(job_id), 90, "the backlog", upkeep.logs)
        assert (job.status, job.imported_count) == ("success", 6 * chunk)
    assert Lead.objects.for_org(org).count() == 3 * 6 * chunk
