"""Subscriptions through the API (ADMIN only, secret shown once) and the guard against
private targets, at subscription time and at every send."""

import json
import os
import secrets
import socket
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

from tests.webhooks.helpers import record, subscribe
from webhooks.models import WebhookDelivery, WebhookSubscription

BODY = {"url": "https://hooks.example.com/crm", "events": ["lead.created", "lead.converted"]}


@pytest.mark.django_db
def test_create_shows_the_secret_once_and_admins_only(admin_client, user_client):
    response = admin_client.post("/api/webhooks/", BODY, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_") and created["is_active"] is True
    assert response["Location"].endswith(f"/api/webhooks/{created['id']}/")
    listed = admin_client.get("/api/webhooks/").json()["results"]
    shown = admin_client.get(f"/api/webhooks/{created['id']}/").json()
    assert "secret" not in shown and created["secret"] not in json.dumps(listed)
    assert user_client.get("/api/webhooks/").status_code == 403
    assert user_client.post("/api/webhooks/", BODY, format="json").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {**BODY, "events": ["lead.exploded"]},
        {**BODY, "events": []},
        {**BODY, "url": "ftp://hooks.example.com/"},
        {**BODY, "url": "https://user:pw@hooks.example.com/"},
        {**BODY, "secret": "mine"},
    ],
)
def test_bad_subscriptions_are_a_400(admin_client, body):
    response = admin_client.post("/api/webhooks/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "validation_error"


@pytest.mark.django_db
def test_patch_turns_a_paused_subscription_back_on(admin_client, org):
    subscription = subscribe(org, "https://hooks.example.com/")
    WebhookSubscription.objects.for_org(org).filter(pk=subscription.pk).update(
        is_active=False, disabled_reason="Paused", consecutive_failures=9
    )
    response = admin_client.patch(
        f"/api/webhooks/{subscription.pk}/", {"is_active": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is True and response.json()["disabled_reason"] == ""
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0
    assert admin_client.delete(f"/api/webhooks/{subscription.pk}/").status_code == 204


PRIVATE = [
    "http://127.0.0.1:8000/hook",
    "http://localhost/hook",
    "http://10.1.2.3/",
    "http://192.168.0.10/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", PRIVATE)
def test_production_refuses_private_targets(admin_client, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = admin_client.post("/api/webhooks/", {**BODY, "url": url}, format="json")
    assert response.status_code == 400, response.content
    assert "url" in response.json()["fields"]


def test_production_settings_default_to_refusing_private_targets():
    code = "import django; django.setup(); from django.conf import settings as s; "
    code += "print(s.WEBHOOKS_ALLOW_PRIVATE_TARGETS)"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WEBHOOKS_"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "DJANGO_ENV": "production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "False", result.stderr
    assert django_settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS is True  # development


def _resolving(monkeypatch, answers):
    """getaddrinfo answering each call with the next address (a rebinding DNS server)."""
    calls = []
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host != "hooks.example.test":
            return real(host, port, *args, **kwargs)
        address = answers[min(len(calls), len(answers) - 1)]
        calls.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return calls


@pytest.mark.django_db(transaction=True)
def test_the_guard_holds_at_send_time_against_rebinding(org, receiver, settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    # Public when subscribed, loopback (the receiver) when sent.
    calls = _resolving(monkeypatch, ["93.184.215.14", "127.0.0.1"])
    subscription = subscribe(org, f"http://hooks.example.test:{receiver.port}/hook")
    record(org)
    assert len(calls) == 2 and receiver.received == []
    delivery = WebhookDelivery.objects.for_org(org).get(subscription=subscription)
    assert delivery.status == "pending" and "private" in delivery.last_error


@pytest.mark.django_db(transaction=True)
def test_the_connection_goes_to_the_checked_address(org, receiver, monkeypatch):
    # Checked once per send, then connected to that address: the name is not looked up
    # again by the HTTP client (which would let a second DNS answer through).
    calls = _resolving(monkeypatch, ["127.0.0.1", "10.9.9.9"])
    subscribe(org, f"http://hooks.example.test:{receiver.port}/hook")
    record(org)
    [request] = receiver.wait_for(1)
    assert request.headers["host"] == f"hooks.example.test:{receiver.port}"
    assert calls == ["127.0.0.1"]


@pytest.mark.django_db
def test_another_organizations_deliveries_are_a_plain_404(admin_client, org, other_org):
    from common.errors import NotFound
    from tests.webhooks.factories import WebhookSubscriptionFactory
    from webhooks.selectors import webhook_delivery_list

    theirs = WebhookSubscriptionFactory(org=other_org)
    answer = admin_client.get(f"/api/webhooks/{theirs.pk}/deliveries/")
    assert (answer.status_code, answer.json()) == (
        404,
        {"code": "not_found", "detail": "Not found.", "fields": {}},
    )
    # The selector's refusal is a domain error, the same for a task or a command.
    with pytest.raises(NotFound):
        webhook_delivery_list(org=org, subscription_id=theirs.pk)
