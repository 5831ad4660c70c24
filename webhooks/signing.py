"""The Standard Webhooks signature (https://www.standardwebhooks.com/): `v1,` and the
base64 HMAC-SHA256 of "{id}.{timestamp}.{body}", keyed with the secret's bytes. Several
signatures are separated by spaces (during a rotation, one per secret).

Signing is these few lines; the scheme's reference library (`standardwebhooks`) verifies
them in the tests, as a receiver would."""

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def secret_generate() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature_header(*, secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(_key(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets_
    )
