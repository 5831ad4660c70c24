"""API key secrets: generation, hashing and resolution.

A key is `lk_` followed by 32 random bytes (URL-safe base64). With that much entropy a
plain SHA-256 is the right hash (no salt or slow hash needed: nothing to brute-force), and
it lets a request find its key with one indexed lookup.
"""

import hashlib
import secrets
from urllib.parse import urlsplit

from django.db import connection
from django.utils import timezone

from capture.models import ApiKey
from common.errors import Conflict, ErrorCode
from common.services import save_with_members

KEY_MARK = "lk_"
PREFIX_LENGTH = 11  # "lk_" + 8 characters: enough to tell keys apart in a list
MAX_KEY_LENGTH = 128


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return KEY_MARK + secrets.token_urlsafe(32)


def api_key_resolve(raw: str | None) -> ApiKey | None:
    """The active key for a presented secret, or None (missing, malformed, unknown, revoked:
    the caller answers all of them the same way)."""
    if not raw or len(raw) > MAX_KEY_LENGTH or not raw.startswith(KEY_MARK):
        return None
    # Resolving a key is what decides the organization, so it necessarily looks across them.
    matches = (
        ApiKey.objects.unscoped()
        .select_related("org")
        .filter(key_hash=key_hash(raw), revoked_on__isnull=True)
    )
    return next(iter(matches[:1]), None)  # key_hash is unique: no ORDER BY needed


def normalize_origin(value: str) -> str | None:
    """`scheme://host[:port]` in lower case, default ports dropped; None if not an origin."""
    try:
        parts = urlsplit(str(value).strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    if parts.path not in {"", "/"} or parts.query or parts.fragment or parts.username:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def origin_of_url(url: str) -> str | None:
    """The origin of an absolute http(s) URL (used to check thank-you redirects)."""
    try:
        parts = urlsplit(str(url).strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.username:
            return None
        return normalize_origin(f"{parts.scheme}://{parts.netloc}")
    except ValueError:
        return None


def key_allows_origin(api_key: ApiKey, origin: str | None) -> bool:
    normalized = normalize_origin(origin) if origin else None
    return normalized is not None and normalized in (api_key.allowed_origins or [])


def any_active_key_allows_origin(origin: str | None) -> bool:
    """For a preflight that carries no key: is the origin on some active key's allow-list?

    Anyone can send preflights, so this must not read every key: on PostgreSQL it is one
    `allowed_origins @> '["origin"]'` query answered from a GIN index over the active keys
    (migration capture 0003). SQLite (development) has no JSON containment operator; there
    a text match narrows the rows in SQL and the lists are checked exactly."""
    normalized = normalize_origin(origin) if origin else None
    if normalized is None:
        return False
    # Crossing organizations is the point: any organization's key may allow this origin.
    active = ApiKey.objects.unscoped().filter(revoked_on__isnull=True)
    if connection.vendor == "postgresql":
        return active.filter(allowed_origins__contains=[normalized]).exists()
    if normalized.isascii():  # JSON text escapes other characters: no text match then
        active = active.filter(allowed_origins__icontains=normalized)
    candidates = active.values_list("allowed_origins", flat=True)
    return any(normalized in (origins or []) for origins in candidates.iterator(chunk_size=500))


def api_key_create(
    *,
    org,
    by,
    name: str,
    allowed_origins=(),
    default_assigned_to=(),
    default_tags=(),
    thank_you_url: str = "",
) -> tuple[ApiKey, str]:
    secret = new_secret()
    api_key = ApiKey.objects.create(
        org=org,
        created_by=by,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        key_hash=key_hash(secret),
        allowed_origins=list(allowed_origins),
        default_tags=list(default_tags),
        thank_you_url=thank_you_url,
    )
    api_key.default_assigned_to.set(default_assigned_to)
    return api_key, secret


def api_key_rotate(*, api_key: ApiKey) -> tuple[ApiKey, str]:
    """A new secret for the same key (settings kept); the old secret stops working now.
    A revoked key stays revoked: rotating it is a conflict."""
    if not api_key.is_active:
        raise Conflict("A revoked key cannot be rotated.", code=ErrorCode.API_KEY_REVOKED)
    secret = new_secret()
    api_key.prefix = secret[:PREFIX_LENGTH]
    api_key.key_hash = key_hash(secret)
    api_key.rotated_on = timezone.now()
    api_key.save(update_fields=["prefix", "key_hash", "rotated_on"])
    return api_key, secret


def api_key_update(*, api_key: ApiKey, data: dict) -> ApiKey:
    """Change a key's settings (never its secret: see api_key_rotate)."""
    return save_with_members(api_key, data, relation="default_assigned_to")


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_on is None:
        api_key.revoked_on = timezone.now()
        api_key.save(update_fields=["revoked_on"])
    return api_key


def api_key_delete(*, api_key: ApiKey) -> None:
    """Delete the key with its idempotency records; spam it refused stays, without it."""
    api_key.delete()
