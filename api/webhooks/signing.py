"""Standard Webhooks signatures: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, keyed
with the bytes a `whsec_` secret encodes (https://www.standardwebhooks.com)."""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105  (the form of a secret, not one)
MIN_SECRET_BYTES = 24


def secret_key(secret: str) -> bytes:
    """The key a `whsec_` + base64 secret holds; ValueError unless it holds at least 24 bytes."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"must start with {SECRET_PREFIX}")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError(f"must be {SECRET_PREFIX} and base64") from None
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"must hold at least {MIN_SECRET_BYTES} bytes (base64 after whsec_)")
    return key


def signature(key: bytes, *, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,…` signature of a message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signatures(keys: Sequence[bytes], *, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: a signature per key (two during a rotation), spaced."""
    return " ".join(
        signature(key, message_id=message_id, timestamp=timestamp, body=body) for key in keys
    )
