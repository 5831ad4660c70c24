"""With a real webhook worker, the relay and a Redis broker: a dead receiver with a backlog
does not slow another receiver's deliveries, and a failing receiver is retried by the relay
until it succeeds, each attempt once."""

import os
import socket
import threading
import time

import pytest

from tests.durability import services as svc
from tests.durability.services import require_real_services
from tests.webhooks.helpers import record, subscribe
from webhooks.models import WebhookDelivery

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "")


@pytest.fixture
def running(tmp_path):
    """A Redis of the test's own, a webhook worker (two processes) and the relay."""
    require_real_services("worker tests")
    from crm.celery import app
    from tests.durability.conftest import _reset_pools

    redis = svc.RedisServer(tmp_path)
    redis.start()
    env = svc.service_env(
        broker=redis.url,
        database=svc.database_url(),
        mail_dir=tmp_path / "mail",
        WEBHOOKS_ALLOW_PRIVATE_TARGETS="true",
        WEBHOOKS_TIMEOUT_SECONDS="3",
        WEBHOOKS_RETRY_BASE_SECONDS="0.2",
        WEBHOOKS_RETRY_MAX_SECONDS="0.5",
        WEBHOOKS_SWEEP_SECONDS="0.2",
    )
    logs = [tmp_path / "worker.log", tmp_path / "relay.log"]
    worker = svc.start_process(
        [
            str(svc.BIN / "celery"),
            "-A",
            "crm",
            "worker",
            "-Q",
            "webhooks",
            "-c",
            "2",
            "--prefetch-multiplier",
            "1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env,
        logs[0],
    )
    relay = svc.start_relay(env, logs[1])
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    _reset_pools(app)
    app.conf.broker_url, app.conf.task_always_eager = redis.url, False
    from django.conf import settings

    settings_saved = (settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER)
    settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = redis.url, False
    yield logs
    settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = settings_saved
    _reset_pools(app)
    app.conf.broker_url, app.conf.task_always_eager = saved
    svc.stop(worker)
    svc.stop(relay)
    redis.kill()


@pytest.fixture
def dead_receiver():
    """Accepts connections and never answers (each send waits out the whole timeout)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hook", held
    stop.set()
    thread.join(2)
    for sock in held:
        sock.close()
    server.close()


def test_a_dead_receiver_does_not_slow_anothers_deliveries(org, running, receiver, dead_receiver):
    dead_url, held = dead_receiver
    subscribe(org, dead_url)
    # A backlog for the dead receiver across many leads, then the healthy one subscribes.
    for _ in range(20):
        record(org)
    svc.wait_for(lambda: held, 15, "the first attempt on the dead receiver", running)
    subscribe(org, receiver.url)
    delays = []
    for _ in range(5):
        started = time.monotonic()
        record(org)
        receiver.wait_for(len(delays) + 1, timeout=10)
        delays.append(time.monotonic() - started)
    assert max(delays) < 1.5, delays
    # The dead receiver is in backoff: a handful of attempts, not one per delivery.
    assert len(held) <= 4


def test_failing_receiver_is_retried_by_the_relay_until_it_succeeds(org, running, receiver):
    receiver.script = [500, 500, 500]
    event = record(org)
    subscribe(org, receiver.url)  # subscribed after: only the next event goes
    event = record(org)
    receiver.wait_for(4, timeout=20)
    time.sleep(1)
    assert receiver.ids() == [str(event.pk)] * 4
    delivery = WebhookDelivery.objects.for_org(org).get()
    assert (delivery.status, delivery.attempts) == ("succeeded", 4)
