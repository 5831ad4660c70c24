"""The job: status codes, tenancy, roles, and resuming after an interruption."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from common.models import Role
from leads.imports import services
from leads.imports.models import ImportJob, ImportStatus
from leads.imports.services import import_job_run
from leads.models import Lead
from outbox.models import OutboxMessage
from tests.conftest import client_for
from tests.imports.conftest import UPLOAD_URL, csv_bytes, upload
from tests.imports.factories import ImportIssueFactory, ImportJobFactory

ROWS = [["first_name", "last_name", "email"]] + [
    ["Lead", str(n), f"lead{n}@example.com"] for n in range(11)
]


@pytest.mark.django_db(transaction=True)
def test_without_broker_the_post_answers_the_finished_job_201(admin_client, org):
    response = admin_client.post(
        UPLOAD_URL,
        {"leads_file": SimpleUploadedFile("leads.csv", csv_bytes(ROWS))},
        format="multipart",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "success" and body["imported_count"] == 11
    assert body["progress"] == {"rows_processed": 11, "total_rows": 11, "percent": 100.0}


def test_with_a_broker_the_post_answers_202_queued(admin_client, org, monkeypatch):
    monkeypatch.setattr("outbox.services._publish_after_commit", lambda message_id: None)

    response = admin_client.post(
        UPLOAD_URL,
        {"leads_file": SimpleUploadedFile("leads.csv", csv_bytes(ROWS))},
        format="multipart",
    )

    assert response.status_code == 202
    body = response.json()
    # The task is an outbox row written with the job: durable whatever the broker does.
    queued = [m.args[0] for m in OutboxMessage.objects.filter(task__endswith="lead_import_run")]
    assert body["status"] == "queued" and queued == [body["id"]]
    assert body["progress"]["rows_processed"] == 0
    # The task needs nothing but the id.
    import_job_run(job_id=queued[0])
    assert admin_client.get(f"{UPLOAD_URL}{body['id']}/").json()["imported_count"] == 11


def test_another_organizations_job_is_404(admin_client, other_admin_membership):
    job = upload(admin_client, csv_bytes([["first_name", "last_name"], ["", "x"]]))
    outsider = client_for(other_admin_membership)

    assert outsider.get(f"{UPLOAD_URL}{job['id']}/").status_code == 404
    assert outsider.get(f"{UPLOAD_URL}{job['id']}/errors.csv").status_code == 404


def test_user_sees_own_jobs_admin_sees_all(admin_client, org, user_client):
    admins = upload(admin_client, csv_bytes(ROWS[:2]))
    users = upload(user_client, csv_bytes(ROWS[:1] + ROWS[2:3]))

    assert user_client.get(f"{UPLOAD_URL}{admins['id']}/").status_code == 404
    assert user_client.get(f"{UPLOAD_URL}{users['id']}/").status_code == 200
    assert admin_client.get(f"{UPLOAD_URL}{users['id']}/").status_code == 200


def test_unknown_and_malformed_job_ids_are_404(admin_client):
    assert admin_client.get(f"{UPLOAD_URL}00000000-0000-0000-0000-000000000000/").status_code == 404
    assert admin_client.get(f"{UPLOAD_URL}not-a-uuid/").status_code == 404


def test_upload_needs_authentication_and_organization(org, admin_membership):
    from rest_framework.test import APIClient

    assert APIClient().post(UPLOAD_URL, {}, format="multipart").status_code == 401
    client = client_for(admin_membership)
    client.credentials(HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"])
    assert client.post(UPLOAD_URL, {}, format="multipart").status_code == 400


def test_factories_need_only_an_org(org):
    issue = ImportIssueFactory(org=org)
    assert issue.job.org == org
    assert ImportJobFactory(org=org).status == ImportStatus.QUEUED


class Killed(BaseException):
    """Stands for a worker killed mid-import: nothing after it runs."""


def test_interrupted_job_resumes_from_its_checkpoint_without_loss_or_doubles(
    admin_client, org, settings, monkeypatch
):
    settings.IMPORT_CHUNK_ROWS = 3
    rows = [*ROWS, ["", "bad", "bad@example.com"], ["Dup", "x", "LEAD0@example.com"]]
    commits = []
    real_commit = services.chunk_writer.__globals__["chunk_commit"]

    def commit_then_die(**kwargs):
        if len(commits) == 2:
            raise Killed
        commits.append(1)
        return real_commit(**kwargs)

    monkeypatch.setattr("leads.imports.pipeline.chunk_commit", commit_then_die)
    monkeypatch.setattr("outbox.services._publish_after_commit", lambda message_id: None)
    response = admin_client.post(
        UPLOAD_URL,
        {"leads_file": SimpleUploadedFile("leads.csv", csv_bytes(rows))},
        format="multipart",
    )
    job_id = response.json()["id"]

    with pytest.raises(Killed):
        import_job_run(job_id=job_id)
    job = ImportJob.objects.for_org(org).get(pk=job_id)
    assert (job.status, job.rows_done, job.imported_count) == ("running", 6, 6)

    monkeypatch.setattr("leads.imports.pipeline.chunk_commit", real_commit)
    import_job_run(job_id=job_id)
    import_job_run(job_id=job_id)  # a second delivery of a finished job changes nothing

    job.refresh_from_db()
    assert job.status == "success"
    assert (job.imported_count, job.failed_count, job.duplicate_count) == (11, 1, 1)
    assert job.rows_done == job.total_rows == 13
    emails = list(Lead.objects.for_org(org).values_list("email_normalized", flat=True))
    assert len(emails) == len(set(emails)) == 11


def test_superseded_delivery_stops_without_writing(admin_client, org, monkeypatch):
    monkeypatch.setattr("outbox.services._publish_after_commit", lambda message_id: None)
    response = admin_client.post(
        UPLOAD_URL,
        {"leads_file": SimpleUploadedFile("leads.csv", csv_bytes(ROWS))},
        format="multipart",
    )
    job = ImportJob.objects.for_org(org).get(pk=response.json()["id"])
    # Another delivery already committed a chunk this one has not seen.
    real = services.chunk_writer

    def stale_writer(job_obj, seen):
        writer = real(job_obj, seen)
        ImportJob.objects.for_org(org).filter(pk=job.pk).update(rows_done=5)
        return writer

    monkeypatch.setattr(services, "chunk_writer", stale_writer)

    assert import_job_run(job_id=job.pk) is None
    assert Lead.objects.for_org(org).count() == 0


def test_user_member_role_can_import(org, user_membership):
    assert user_membership.role == Role.USER
    job = upload(client_for(user_membership), csv_bytes(ROWS[:2]))
    assert job["imported_count"] == 1


def test_job_status_is_in_the_openapi_schema(admin_client):
    schema = admin_client.get("/api/schema/?format=json").json()
    assert "/api/leads/upload/" in schema["paths"]
    assert "/api/leads/upload/{job_id}/" in schema["paths"]
    post = schema["paths"]["/api/leads/upload/"]["post"]
    assert {"201", "202", "400", "413"} <= set(post["responses"])
