"""The proxy's body limits follow the app's: a little above them, so that the app's own 413
(with its precise message) answers what the app refuses, and nginx refuses, unread, only
bodies the app would refuse anyway. Raising an app limit without the proxy's fails here."""

import re

from django.conf import settings

from leads.imports.api import _MULTIPART_OVERHEAD
from tests.serving.stack import DEPLOY

TEMPLATE = (DEPLOY / "nginx" / "crm.conf.template").read_text()
UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}
SLACK = 2**20  # how far above the app's limit the proxy's may be


def _bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", value.lower()).groups()
    return int(number) * UNITS[unit]


def _limit(block_start: str) -> int:
    """The first client_max_body_size after `block_start` in the template."""
    tail = TEMPLATE[TEMPLATE.index(block_start) :]
    return _bytes(re.search(r"^\s*client_max_body_size (\S+);", tail, re.M).group(1))


def test_attachment_routes_allow_one_attachment_and_the_form_fields():
    app = settings.ATTACHMENT_MAX_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    proxy = _limit("http {")
    assert app <= proxy <= app + SLACK


def test_the_import_upload_allows_the_largest_import_file():
    app = settings.IMPORT_MAX_FILE_BYTES + _MULTIPART_OVERHEAD
    proxy = _limit("location = /api/leads/upload/ {")
    assert app <= proxy <= app + SLACK
