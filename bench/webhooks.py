"""Webhook delivery benchmark: `python -m bench webhooks`.

Needs PostgreSQL and Redis: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
bench_webhooks, created and migrated here) and CELERY_BROKER_URL (default
redis://127.0.0.1:6379/13). Starts the relay and one webhook worker as production runs them
(`-Q webhooks -c 4 --prefetch-multiplier 1`), and a receiver on loopback in this process
that answers 200 at once, then measures:

- the delay from a change's commit to its delivery at the receiver, median and p95, over
  BENCH_WEBHOOKS_EVENTS single-event transactions sent one at a time (each waits for its
  delivery), one subscription;
- deliveries per second for a burst: BENCH_WEBHOOKS_BURST events (one per lead, in
  transactions of 20) to one subscription, then the same to four subscriptions (a sender per
  subscription: four can run at once).

Every wait is bounded.
"""

import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.database import ensure_postgres_database

ROOT = Path(__file__).resolve().parent.parent
EVENTS = int(os.environ.get("BENCH_WEBHOOKS_EVENTS", "200"))
BURST = int(os.environ.get("BENCH_WEBHOOKS_BURST", "2000"))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_webhooks"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/13"


class Arrivals:
    def __init__(self):
        self.at: dict[str, float] = {}
        self.lock = threading.Lock()
        self.count = 0

    def add(self, message_id: str) -> None:
        now = time.monotonic()
        with self.lock:
            self.at.setdefault(message_id, now)
            self.count += 1

    def wait(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.at) >= count:
                return True
            time.sleep(0.001)
        return False


def _receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            # Keyed by path too: each subscription has its own path, one event id each.
            arrivals.add(f"{self.path} {self.headers['Webhook-Id']}")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _record(org, count: int) -> tuple[list[str], float]:
    from django.db import transaction

    from changelog.services import Actor, Change, EventData, events_record

    committed = []
    with transaction.atomic():
        # Registered before the events' own after-commit publish: the moment of the commit.
        transaction.on_commit(lambda: committed.append(time.monotonic()))
        rows = events_record(
            org=org,
            change=Change(actor=Actor.system()),
            events=[EventData("lead.updated", "updated", uuid.uuid4()) for _ in range(count)],
        )
    return [str(row.pk) for row in rows], committed[0]


def _burst(org, arrivals, subscriptions: int) -> float:
    expected = len(arrivals.at) + BURST * subscriptions
    started = time.monotonic()
    for _ in range(BURST // 20):
        _record(org, 20)
    if not arrivals.wait(expected, timeout=300):
        raise RuntimeError(f"only {len(arrivals.at)} of {expected} deliveries arrived")
    return BURST * subscriptions / (time.monotonic() - started)


def main() -> None:
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    broker_url = os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER_URL
    os.environ.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        WEBHOOKS_ALLOW_PRIVATE_TARGETS="true",
        DJANGO_SETTINGS_MODULE="crm.settings",
    )
    ensure_postgres_database(database_url)
    import django

    django.setup()
    from django.core.management import call_command

    from common.models import Organization
    from webhooks.models import WebhookSubscription
    from webhooks.services import webhook_subscription_create

    call_command("migrate", verbosity=0, interactive=False)
    import redis

    redis.Redis.from_url(broker_url).delete("webhooks")  # no leftovers of an earlier run
    arrivals = Arrivals()
    server = _receiver(arrivals)
    url = f"http://127.0.0.1:{server.server_address[1]}/hook/"
    org = Organization.objects.create(name=f"Webhook bench {uuid.uuid4().hex[:6]}")
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed at the end
    bin_dir = Path(sys.executable).parent
    processes = [
        subprocess.Popen(
            [
                str(bin_dir / "celery"),
                "-A",
                "crm",
                "worker",
                "-Q",
                "webhooks",
                "-c",
                "4",
                "--prefetch-multiplier",
                "1",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=log,
        ),
        subprocess.Popen(
            [sys.executable, "manage.py", "outbox_relay"], cwd=ROOT, stdout=log, stderr=log
        ),
    ]
    try:
        webhook_subscription_create(org=org, url=url + "0", events=["lead.updated"])
        # Warm-up: the worker is up and its processes have connected.
        ids, _ = _record(org, 1)
        if not arrivals.wait(1, timeout=60):
            raise RuntimeError("the worker did not deliver the first event within 60 s")

        delays = []
        for _ in range(EVENTS):
            expected = len(arrivals.at) + 1
            ids, committed = _record(org, 1)
            if not arrivals.wait(expected, timeout=30):
                raise RuntimeError("a delivery did not arrive within 30 s")
            delays.append((arrivals.at[f"/hook/0 {ids[0]}"] - committed) * 1000)
            time.sleep(0.01)
        delays.sort()
        p95 = delays[int(len(delays) * 0.95) - 1]
        print(
            f"commit to delivery, {EVENTS} events one at a time: "
            f"median {statistics.median(delays):.1f} ms, p95 {p95:.1f} ms, "
            f"max {delays[-1]:.1f} ms"
        )
        rate = _burst(org, arrivals, 1)
        print(f"burst of {BURST} events, 1 subscription: {rate:.0f} deliveries/s")
        for n in range(1, 4):
            webhook_subscription_create(org=org, url=f"{url}{n}", events=["lead.updated"])
        rate = _burst(org, arrivals, 4)
        print(f"burst of {BURST} events, 4 subscriptions: {rate:.0f} deliveries/s")
        duplicates = arrivals.count - len(arrivals.at)
        print(f"requests received: {arrivals.count}; duplicates: {duplicates}")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        server.shutdown()
        # Later runs must not deliver to this run's receiver.
        WebhookSubscription.objects.for_org(org).update(is_active=False)
