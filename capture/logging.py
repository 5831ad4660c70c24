"""Keeps API keys out of logs.

A key travels in the query string (`?apikey=`), which runserver's and gunicorn's access
logs print verbatim. `ApiKeyScrubFilter` rewrites any record mentioning `apikey=...` (and
any bare `lk_...` secret) before it is emitted.
"""

import logging
import re


def _encodable(name: str) -> str:
    """A pattern for `name` where any character may also be percent-encoded (`api%6Bey`):
    servers decode query parameter names, so a client may send them either way."""

    def one(c: str) -> str:
        forms = {re.escape(c), *(f"%{ord(v):02x}" for v in {c.lower(), c.upper()})}
        return "(?:" + "|".join(sorted(forms)) + ")"

    return "".join(one(c) for c in name)


_NAMES = "|".join(_encodable(name) for name in ("apikey", "api_key", "api-key"))
_QUERY_KEY = re.compile(rf"(?i)((?:{_NAMES})(?:=|%3d)|x-api-key[\"']?\s*[:=]\s*[\"']?)[^&\s\"'<>]+")
_BARE_SECRET = re.compile(r"\blk_[A-Za-z0-9_-]{20,}")
REDACTED = "[redacted]"

# Loggers that print request lines or paths; the filter is attached to each of them (a
# logger-level filter, so every handler, pytest's caplog included, sees the scrubbed text).
REQUEST_LOGGERS = ("django.request", "django.server", "gunicorn.access", "gunicorn.error")


def scrub(text: str) -> str:
    return _BARE_SECRET.sub(REDACTED, _QUERY_KEY.sub(lambda m: m.group(1) + REDACTED, text))


class ApiKeyScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to logging
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


def install_scrub_filter() -> None:
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ApiKeyScrubFilter) for f in logger.filters):
            logger.addFilter(ApiKeyScrubFilter())
