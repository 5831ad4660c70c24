"""The outbox: a task is a row of the writing transaction, published after the commit,
relayed with backoff when the broker cannot take it, and consumed at most once."""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from leads.models import Lead
from leads.tasks import lead_assignment_notify
from outbox import services
from outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)


def _create_assigned(client, member):
    return client.post(
        "/api/leads/",
        {"first_name": "A", "last_name": "B", "assigned_to": [str(member.user_id)]},
        format="json",
    )


@pytest.fixture
def broker(settings, monkeypatch):
    """A broker we control: `down` makes every publish fail; `sent` records the others."""

    class Broker:
        down = True
        sent: list = []

    def send(message):
        if Broker.down:
            raise ConnectionRefusedError("Connection refused")
        Broker.sent.append((message.task, message.args, str(message.pk)))

    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(services, "_send", send)
    Broker.sent = []
    return Broker


def test_without_broker_the_task_runs_in_process_after_commit(admin_client, user_membership):
    response = _create_assigned(admin_client, user_membership)
    assert response.status_code == 201
    assert [m.to for m in mail.outbox] == [[user_membership.user.email]]
    message = OutboxMessage.objects.get()
    assert message.published_on is not None and message.consumed_on is not None


def test_a_rolled_back_change_leaves_no_message(org, admin_membership, user_membership):
    from leads.services import lead_create

    with pytest.raises(RuntimeError), transaction.atomic():
        lead_create(
            org=org,
            by=admin_membership.user,
            data={"first_name": "A", "last_name": "B"},
            assigned_to=[user_membership.user],
        )
        raise RuntimeError
    assert not OutboxMessage.objects.exists() and mail.outbox == []


def test_broker_down_the_request_succeeds_and_the_relay_publishes_later(
    broker, admin_client, org, user_membership, caplog
):
    caplog.set_level(logging.WARNING)
    response = _create_assigned(admin_client, user_membership)

    assert response.status_code == 201
    assert Lead.objects.for_org(org).count() == 1
    message = OutboxMessage.objects.get()
    assert message.published_on is None and message.attempts == 1
    assert message.available_at > timezone.now()
    assert "ConnectionRefusedError" in message.last_error
    assert [r.name for r in caplog.records if r.levelno >= logging.WARNING] == ["outbox.services"]

    # Still down at the relay's next round: backoff doubles.
    OutboxMessage.objects.update(
        available_at=timezone.now(), created_on=timezone.now() - timedelta(minutes=1)
    )
    assert services.outbox_relay_once() == 0
    message.refresh_from_db()
    assert message.attempts == 2 and message.published_on is None

    broker.down = False
    OutboxMessage.objects.update(available_at=timezone.now() - timedelta(seconds=1))
    call_command("outbox_relay", "--once")
    message.refresh_from_db()
    assert message.published_on is not None
    assert broker.sent == [("leads.tasks.lead_assignment_notify", message.args, str(message.pk))]


def test_the_relay_leaves_fresh_messages_to_the_process_that_wrote_them(broker, settings):
    settings.OUTBOX_RELAY_GRACE_SECONDS = 60
    broker.down = False
    OutboxMessage.objects.create(task="leads.tasks.lead_assignment_notify", args=[])
    assert services.outbox_relay_once() == 0
    OutboxMessage.objects.update(created_on=timezone.now() - timedelta(minutes=2))
    assert services.outbox_relay_once() == 1


def test_a_message_delivered_twice_sends_its_e_mail_once(org, user_membership):
    from tests.factories import LeadFactory

    lead = LeadFactory(org=org)
    args = [str(lead.pk), str(org.pk), [str(user_membership.user_id)]]
    message = OutboxMessage.objects.create(task="leads.tasks.lead_assignment_notify", args=args)
    for _ in range(2):
        lead_assignment_notify.apply(args=args, task_id=str(message.pk))
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.consumed_on is not None


def test_published_messages_are_purged_after_the_retention(settings):
    settings.OUTBOX_RETENTION_DAYS = 7
    old = timezone.now() - timedelta(days=8)
    OutboxMessage.objects.create(task="t.a", created_on=old, published_on=old)
    OutboxMessage.objects.create(task="t.b", created_on=old)  # never published: kept
    OutboxMessage.objects.create(task="t.c", published_on=timezone.now())
    assert services.outbox_purge() == 1
    assert sorted(OutboxMessage.objects.values_list("task", flat=True)) == ["t.b", "t.c"]


def test_an_e_mail_not_consumed_in_time_is_published_again(broker, settings):
    settings.OUTBOX_REDELIVER_SECONDS = 60
    broker.down = False
    long_ago = timezone.now() - timedelta(seconds=61)
    lost = OutboxMessage.objects.create(task="t.lost", redeliver=True, published_on=long_ago)
    OutboxMessage.objects.create(
        task="t.done", redeliver=True, published_on=long_ago, consumed_on=long_ago
    )
    OutboxMessage.objects.create(task="t.token", published_on=long_ago)  # no consumer mark
    OutboxMessage.objects.create(task="t.recent", redeliver=True, published_on=timezone.now())

    assert services.outbox_relay_once() == 1
    assert [task for task, _, _ in broker.sent] == ["t.lost"]
    lost.refresh_from_db()
    assert lost.published_on > long_ago  # the next redelivery waits another period
