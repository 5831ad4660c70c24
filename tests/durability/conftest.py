import os

import pytest

from tests.durability.services import RedisServer, require_real_services

BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "")


@pytest.fixture
def fault_redis(tmp_path):
    """A Redis of the test's own, which it may kill and restart."""
    require_real_services("fault tests")
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
