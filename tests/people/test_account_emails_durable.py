"""Invitation and reset e-mails are outbox work: durable with the change, and no usable
token ever waits in the database or the outbox."""

from django.core import mail
from rest_framework.test import APIClient

from common.invitations import invitation_create, invitation_email_send, invitation_revoke
from common.models import Role
from outbox.models import OutboxMessage


def test_an_invitation_e_mail_is_an_outbox_row_that_carries_no_token(admin_client):
    answer = admin_client.post(
        "/api/invitations/", {"email": "rep@example.com", "role": "USER"}, format="json"
    )

    assert answer.status_code == 201
    message = OutboxMessage.objects.get(task="common.tasks.invitation_email_send")
    assert message.args == [answer.json()["id"]]
    (sent,) = mail.outbox
    token = sent.body.split("token=")[1].split()[0]
    assert token not in str(message.args)


def test_a_revoked_invitation_gets_no_e_mail_and_no_token(org, admin_membership):
    invitation = invitation_create(
        org=org, email="late@example.com", role=Role.USER, by=None, send_email=False
    )
    invitation_revoke(invitation=invitation)

    assert invitation_email_send(invitation_id=str(invitation.pk)) is False
    assert mail.outbox == []


def test_a_reset_request_queues_the_e_mail_for_known_addresses_only(admin_membership):
    for email in (admin_membership.user.email, "nobody@example.com"):
        answer = APIClient().post("/api/auth/password-reset/", {"email": email}, format="json")
        assert answer.status_code == 202

    (message,) = OutboxMessage.objects.filter(task="common.tasks.password_reset_email_send")
    assert message.args == [str(admin_membership.user.pk)]
    assert [sent.to for sent in mail.outbox] == [[admin_membership.user.email]]
