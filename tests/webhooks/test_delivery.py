"""Deliveries to a real HTTP receiver on loopback: after the commit only, signed with the
Standard Webhooks scheme, retried with the same Webhook-Id, in order per lead, and turned
off or paused when the receiver is gone or failing for days."""

import json
import logging
import time
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from changelog.services import Actor, Change, EventData, events_record
from tests.webhooks.helpers import record, subscribe
from webhooks import dispatch
from webhooks.models import WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db(transaction=True)


def _retry_when_due(subscription):
    """What the relay does every second: wait for the backoff, then sweep."""
    subscription.refresh_from_db()
    if subscription.retry_at:
        time.sleep(max(0, (subscription.retry_at - timezone.now()).total_seconds()) + 0.01)
    dispatch.webhooks_sweep()


def test_a_committed_change_is_delivered_signed_with_the_published_scheme(org, receiver):
    subscription = subscribe(org, receiver.url)
    event = record(org, "lead.updated", "updated", changes={"status": ["assigned", "closed"]})

    [request] = receiver.wait_for(1)
    # Verified as a receiver would, with the scheme's reference library.
    payload = Webhook(subscription.secret).verify(request.body, request.headers)
    assert payload["id"] == str(event.pk) == request.headers["webhook-id"]
    assert payload["type"] == "lead.updated"
    assert payload["organization_id"] == str(org.pk)
    assert payload["data"]["changes"] == {"status": ["assigned", "closed"]}
    assert payload["data"]["lead_id"] == str(event.lead_id)
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 10
    with pytest.raises(Exception, match="signature"):
        Webhook(subscribe(org, receiver.url).secret).verify(request.body, request.headers)
    delivery = WebhookDelivery.objects.for_org(org).get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)


def test_only_the_listed_types_and_active_subscriptions_receive(org, receiver, other_receiver):
    subscribe(org, receiver.url, events=["lead.converted"])
    off = subscribe(org, other_receiver.url)
    WebhookSubscription.objects.for_org(org).filter(pk=off.pk).update(is_active=False)
    record(org, "lead.updated", "updated")
    converted = record(org, "lead.converted", "converted")
    assert receiver.wait_for(1) and receiver.ids() == [str(converted.pk)]
    time.sleep(0.2)
    assert other_receiver.received == []


def test_a_rolled_back_change_sends_nothing(org, receiver):
    subscribe(org, receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        events_record(
            org=org, change=Change(actor=Actor.system()), events=[EventData("lead.created", "x")]
        )
        raise RuntimeError
    dispatch.webhooks_sweep()
    time.sleep(0.3)
    assert receiver.received == []
    assert not WebhookDelivery.objects.for_org(org).exists()


def test_failing_three_times_then_succeeding_gets_the_event_once_more_each_time(org, receiver):
    receiver.script = [500, 503, 502]
    subscription = subscribe(org, receiver.url)
    event = record(org)
    for _ in range(3):
        _retry_when_due(subscription)
    receiver.wait_for(4)
    time.sleep(0.3)
    dispatch.webhooks_sweep()
    assert receiver.ids() == [str(event.pk)] * 4
    bodies = {r.body for r in receiver.received}
    assert len(bodies) == 1  # the same payload each time
    delivery = WebhookDelivery.objects.for_org(org).get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 4, 200)
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0 and subscription.retry_at is None


def test_backoff_grows_with_jitter(settings):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 5
    settings.WEBHOOKS_RETRY_MAX_SECONDS = 3600
    delays = [dispatch.retry_delay(n) for n in (1, 2, 3, 4, 20)]
    assert 2.5 <= delays[0] <= 5 and 5 <= delays[1] <= 10 and 10 <= delays[2] <= 20
    assert 1800 <= delays[4] <= 3600
    assert len({dispatch.retry_delay(3) for _ in range(20)}) > 1


def test_one_leads_deliveries_arrive_in_order_across_a_failure(org, receiver):
    receiver.script = [500]
    subscription = subscribe(org, receiver.url)
    lead = record(org).lead_id
    second = record(org, "lead.updated", "updated", lead_id=lead)
    third = record(org, "lead.updated", "commented", lead_id=lead)
    _retry_when_due(subscription)
    receiver.wait_for(4)
    first = WebhookDelivery.objects.for_org(org).get(event_type="lead.created").event_id
    assert receiver.ids() == [str(first), str(first), str(second.pk), str(third.pk)]


def test_a_410_turns_the_subscription_off_with_its_reason(org, receiver):
    receiver.default_status = 410
    subscription = subscribe(org, receiver.url)
    record(org)
    receiver.wait_for(1)
    record(org)
    dispatch.webhooks_sweep()
    time.sleep(0.2)
    assert len(receiver.received) == 1
    subscription.refresh_from_db()
    assert not subscription.is_active and "410" in subscription.disabled_reason
    assert WebhookDelivery.objects.for_org(org).filter(status="failed").count() == 1


def test_a_receiver_failing_for_days_is_paused_and_old_deliveries_given_up(org, receiver):
    receiver.default_status = 500
    subscription = subscribe(org, receiver.url)
    old = record(org)
    WebhookDelivery.objects.for_org(org).update(created_on=timezone.now() - timedelta(hours=25))
    WebhookSubscription.objects.for_org(org).filter(pk=subscription.pk).update(
        failing_since=timezone.now() - timedelta(days=4), consecutive_failures=30, retry_at=None
    )
    record(org)
    receiver.wait_for(1)
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert "Paused" in subscription.disabled_reason and "HTTP 500" in subscription.disabled_reason
    given_up = WebhookDelivery.objects.for_org(org).get(event_id=old.pk)
    assert given_up.status == "failed"


def test_a_redirect_is_not_followed(org, receiver):
    receiver.script = [302]
    subscribe(org, receiver.url)
    record(org)
    receiver.wait_for(1)
    time.sleep(0.2)
    assert len(receiver.received) == 1
    delivery = WebhookDelivery.objects.for_org(org).get()
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)


def test_a_slow_receiver_times_out(org, receiver, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.5
    receiver.delay = 3
    subscribe(org, receiver.url)
    started = time.monotonic()
    record(org)
    assert time.monotonic() - started < 2
    delivery = WebhookDelivery.objects.for_org(org).get()
    assert delivery.status == "pending" and "TimeoutError" in delivery.last_error


def test_the_secret_never_appears_in_logs(org, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    receiver.script = [500]
    subscription = subscribe(org, receiver.url)
    record(org)
    _retry_when_due(subscription)
    receiver.wait_for(2)
    assert "Webhook" in caplog.text
    key = subscription.secret.removeprefix("whsec_")
    assert key not in caplog.text and subscription.secret not in caplog.text


def test_rotation_signs_with_both_secrets_for_a_day(org, receiver, admin_client):
    subscription = subscribe(org, receiver.url)
    old_secret = subscription.secret
    response = admin_client.post(f"/api/webhooks/{subscription.pk}/rotate-secret/")
    assert response.status_code == 200
    new_secret = response.json()["secret"]
    assert new_secret != old_secret
    record(org)
    [request] = receiver.wait_for(1)
    assert request.headers["webhook-signature"].count("v1,") == 2
    for secret in (old_secret, new_secret):
        Webhook(secret).verify(request.body, request.headers)
    WebhookSubscription.objects.for_org(org).filter(pk=subscription.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    record(org)
    request = receiver.wait_for(2)[1]
    Webhook(new_secret).verify(request.body, request.headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(old_secret).verify(request.body, request.headers)


def test_the_delivery_log_and_a_redelivery(org, receiver, admin_client):
    receiver.script = [500]
    subscription = subscribe(org, receiver.url)
    event = record(org)
    receiver.wait_for(1)
    url = f"/api/webhooks/{subscription.pk}/deliveries/"
    [entry] = admin_client.get(url).json()["results"]
    assert entry["event_id"] == str(event.pk) and entry["event_type"] == "lead.created"
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("pending", 1, 500)
    assert entry["next_attempt_at"] is not None
    _retry_when_due(subscription)
    receiver.wait_for(2)
    [entry] = admin_client.get(url).json()["results"]
    assert (entry["status"], entry["attempts"], entry["next_attempt_at"]) == ("succeeded", 2, None)

    response = admin_client.post(f"{url}{entry['id']}/redeliver/")
    assert response.status_code == 202
    receiver.wait_for(3)
    assert receiver.ids() == [str(event.pk)] * 3
    assert json.loads(receiver.received[2].body)["id"] == str(event.pk)
    [entry] = admin_client.get(url).json()["results"]
    assert (entry["status"], entry["attempts"]) == ("succeeded", 3)


@pytest.mark.parametrize(
    ("type_", "action"),
    [
        ("lead.created", "created"),
        ("lead.updated", "updated"),
        ("lead.converted", "converted"),
        ("lead.deleted", "deleted"),
        ("lead.assigned", "assigned"),
        ("import.finished", "import_finished"),
    ],
)
def test_every_event_type_is_delivered_to_its_subscribers(org, receiver, type_, action):
    subscribe(org, receiver.url, events=[type_])
    lead_id = None if type_ == "import.finished" else uuid.uuid4()
    with transaction.atomic():
        [event] = events_record(
            org=org,
            change=Change(actor=Actor.system()),
            events=[EventData(type_, action, lead_id, {"imported_count": [None, 3]})],
        )
    [request] = receiver.wait_for(1)
    payload = json.loads(request.body)
    assert (payload["id"], payload["type"], payload["data"]["action"]) == (
        str(event.pk),
        type_,
        action,
    )
    assert payload["data"]["lead_id"] == (str(lead_id) if lead_id else None)
