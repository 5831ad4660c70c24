import os
import shutil

import pytest
from django.db import connection

from tests.durability.services import RedisServer

BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "")


@pytest.fixture
def fault_redis(tmp_path):
    """A Redis of the test's own, which it may kill and restart."""
    if not BROKER_URL or connection.vendor != "postgresql":
        if os.environ.get("CI", "").lower() == "true" and connection.vendor == "postgresql":
            pytest.fail("CELERY_TEST_BROKER_URL must be set in CI")
        pytest.skip("fault tests need PostgreSQL and Redis (CELERY_TEST_BROKER_URL)")
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


def _reset_pools(app) -> None:
    """Forget every broker connection pool (kombu keeps a registry per URL)."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def web_broker(settings, fault_redis):
    """This test process publishes like a web process configured with CELERY_BROKER_URL."""
    from crm.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager)
    _reset_pools(app)
    app.conf.broker_url = fault_redis.url
    app.conf.task_always_eager = False
    settings.CELERY_BROKER_URL = fault_redis.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield fault_redis
    _reset_pools(app)
    app.conf.broker_url, app.conf.task_always_eager = saved
