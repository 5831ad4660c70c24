import pytest

from tests.webhooks.receiver import start_receiver


@pytest.fixture
def receiver():
    server = start_receiver()
    yield server
    server.close()


@pytest.fixture
def other_receiver():
    server = start_receiver()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _quick_webhooks(settings):
    """Loopback receivers allowed (as in development) and short backoff."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 0.05
    settings.WEBHOOKS_RETRY_MAX_SECONDS = 0.2
    settings.WEBHOOKS_TIMEOUT_SECONDS = 2.0
