import pytest
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _requests_commit(monkeypatch, django_capture_on_commit_callbacks):
    """A test's transaction never commits: run each request's on-commit callbacks (the
    e-mails) when the request ends, as a real commit would."""
    original = APIClient.generic

    def generic(self, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return original(self, *args, **kwargs)

    monkeypatch.setattr(APIClient, "generic", generic)
