import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from leads.models import Attachment, Comment
from tests.factories import CommentFactory
from tests.leads.factories import AttachmentFactory
from tests.leads.helpers import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_lead(org, user_membership, other_user_membership):
    """A lead both USER members can see."""
    return make_lead(org, assigned_to=[user_membership.user, other_user_membership.user])


def test_spec_example_comment_is_added(admin_client, org, admin_membership):
    lead = make_lead(org)
    response = admin_client.post(
        f"/api/leads/{lead.pk}/",
        {"comment": "Discovery call scheduled for next Tuesday"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["comment"]["comment"] == "Discovery call scheduled for next Tuesday"
    assert body["comment"]["commented_by"]["id"] == str(admin_membership.user_id)
    assert body["attachment"] is None
    assert Comment.objects.for_org(org).filter(lead=lead).count() == 1


def test_comment_and_attachment_together(admin_client, org):
    lead = make_lead(org)
    response = admin_client.post(
        f"/api/leads/{lead.pk}/",
        {"comment": "see file", "attachment": SimpleUploadedFile("a b.txt", b"abc", "text/plain")},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["comment"]["comment"] == "see file"
    assert body["attachment"]["file_name"] == "a b.txt"
    assert body["attachment"]["size"] == 3


def test_empty_activity_is_400(admin_client, org):
    lead = make_lead(org)
    response = admin_client.post(f"/api/leads/{lead.pk}/", {}, format="json")
    assert response.status_code == 400


def test_attachment_over_limit_is_413(admin_client, org, settings):
    settings.ATTACHMENT_MAX_BYTES = 4
    lead = make_lead(org)
    response = admin_client.post(
        f"/api/leads/{lead.pk}/",
        {"attachment": SimpleUploadedFile("big.txt", b"12345")},
        format="multipart",
    )
    assert response.status_code == 413
    assert not Attachment.objects.for_org(org).exists()


def test_download_returns_content_with_safe_original_name(admin_client, org):
    lead = make_lead(org)
    weird = "r\u00e9sum\u00e9 final;.pdf"
    created = admin_client.post(
        f"/api/leads/{lead.pk}/",
        {"attachment": SimpleUploadedFile(weird, b"%PDF-data", "application/pdf")},
        format="multipart",
    ).json()["attachment"]

    response = admin_client.get(created["download_url"])

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-data"
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition
    assert "\n" not in disposition
    assert "filename*=utf-8''r%C3%A9sum%C3%A9" in disposition
    stored = Attachment.objects.for_org(org).get().file.name
    assert "sum" not in stored
    assert stored.endswith(".pdf")
    assert Attachment.objects.for_org(org).get().file_name == weird


def test_download_needs_auth_and_visibility(client, user_client, org, admin_membership):
    attachment = AttachmentFactory(org=org, created_by=admin_membership.user)
    url = f"/api/leads/attachment/{attachment.pk}/"
    assert client.get(url, HTTP_ORGANIZATION_ID=str(org.pk)).status_code == 401
    assert user_client.get(url).status_code == 404


def test_media_is_not_served_publicly(client, org):
    attachment = AttachmentFactory(org=org)
    assert client.get(f"/media/{attachment.file.name}").status_code == 404
    assert client.get(f"/{attachment.file.name}").status_code == 404


def test_uploader_or_admin_deletes_attachment_and_file(
    user_client,
    other_user_client,
    admin_client,
    org,
    shared_lead,
    user_membership,
    django_capture_on_commit_callbacks,
):
    mine = AttachmentFactory(org=org, lead=shared_lead, created_by=user_membership.user)
    another = AttachmentFactory(org=org, lead=shared_lead, created_by=user_membership.user)
    mine_path, another_path = mine.file.name, another.file.name

    assert other_user_client.delete(f"/api/leads/attachment/{mine.pk}/").status_code == 403
    assert other_user_client.get(f"/api/leads/attachment/{mine.pk}/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert user_client.delete(f"/api/leads/attachment/{mine.pk}/").status_code == 204
        assert admin_client.delete(f"/api/leads/attachment/{another.pk}/").status_code == 204
    assert not Attachment.objects.for_org(org).exists()
    assert not default_storage.exists(mine_path)
    assert not default_storage.exists(another_path)


def test_comment_author_edits_and_deletes(user_client, org, shared_lead, user_membership):
    comment = CommentFactory(org=org, lead=shared_lead, commented_by=user_membership.user)
    url = f"/api/leads/comment/{comment.pk}/"
    response = user_client.put(url, {"comment": "edited"}, format="json")
    assert response.status_code == 200
    assert response.json()["comment"] == "edited"
    assert user_client.patch(url, {"comment": "again"}, format="json").status_code == 200
    assert user_client.delete(url).status_code == 204
    assert not Comment.objects.for_org(org).exists()


def test_other_member_who_sees_the_lead_reads_but_gets_403_on_changes(
    other_user_client, org, shared_lead, user_membership
):
    comment = CommentFactory(org=org, lead=shared_lead, commented_by=user_membership.user)
    url = f"/api/leads/comment/{comment.pk}/"
    read = other_user_client.get(url)
    assert read.status_code == 200 and read.json()["comment"] == "A comment"
    assert other_user_client.put(url, {"comment": "x"}, format="json").status_code == 403
    assert other_user_client.patch(url, {"comment": "x"}, format="json").status_code == 403
    assert other_user_client.delete(url).status_code == 403
    comment.refresh_from_db()
    assert comment.comment == "A comment"


def test_member_who_cannot_see_the_lead_gets_404(user_client, org, admin_membership):
    lead = make_lead(org, created_by=admin_membership.user)
    comment = CommentFactory(org=org, lead=lead, commented_by=admin_membership.user)
    url = f"/api/leads/comment/{comment.pk}/"
    assert user_client.get(url).status_code == 404
    assert user_client.patch(url, {"comment": "x"}, format="json").status_code == 404
    assert user_client.delete(url).status_code == 404


def test_admin_edits_any_comment(admin_client, org, shared_lead, user_membership):
    comment = CommentFactory(org=org, lead=shared_lead, commented_by=user_membership.user)
    response = admin_client.patch(
        f"/api/leads/comment/{comment.pk}/", {"comment": "moderated"}, format="json"
    )
    assert response.status_code == 200


def test_blank_comment_edit_is_400(admin_client, org, admin_membership):
    comment = CommentFactory(org=org, commented_by=admin_membership.user)
    response = admin_client.put(f"/api/leads/comment/{comment.pk}/", {"comment": ""})
    assert response.status_code == 400


def test_attachment_file_missing_on_disk_is_404(admin_client, org):
    attachment = AttachmentFactory(org=org)
    default_storage.delete(attachment.file.name)
    assert admin_client.get(f"/api/leads/attachment/{attachment.pk}/").status_code == 404


def test_hostile_file_name_is_kept_as_data_only(admin_client, org, admin_membership):
    from leads.services import attachment_create

    lead = make_lead(org)
    upload = SimpleUploadedFile(
        '..\\..\\evil "x"\r\nSet-Cookie: a=b.html', b"<script>", "text/html"
    )
    attachment = attachment_create(lead=lead, by=admin_membership.user, upload=upload)
    assert attachment.file_name == 'evil "x"Set-Cookie: a=b.html'
    assert attachment.file.name.startswith(f"attachments/{org.pk}/")

    response = admin_client.get(f"/api/leads/attachment/{attachment.pk}/")

    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers or "a=b" not in response.headers["Set-Cookie"]
    assert response["Content-Disposition"].startswith("attachment;")
    assert "\n" not in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_download_ignores_accept_header(admin_client, org):
    attachment = AttachmentFactory(org=org)
    response = admin_client.get(
        f"/api/leads/attachment/{attachment.pk}/", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"meeting notes"


def test_declared_oversized_body_is_refused_before_parsing(admin_client, org, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    lead = make_lead(org)
    response = admin_client.post(
        f"/api/leads/{lead.pk}/",
        {"attachment": SimpleUploadedFile("big.bin", b"x" * 500)},
        format="multipart",
    )
    assert response.status_code == 413
    assert response.json()["code"] == "attachment_too_large"
