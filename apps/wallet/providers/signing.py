"""Webhook signatures: HMAC-SHA256 of the raw body, hex, in the `X-Signature` header.

The event's `created` timestamp is inside the signed body, so an old event cannot be replayed
with a fresh timestamp.
"""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Signature"


def body_sign(body: bytes, secret: str) -> str:
    """The hex HMAC-SHA256 of `body` under `secret`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_signature_valid(body: bytes, signature: str, secret: str) -> bool:
    """Whether `signature` is `body`'s signature under `secret` (constant-time compare)."""
    candidate = signature.strip().encode("ascii", errors="replace")  # any header: bytes
    return bool(secret) and hmac.compare_digest(body_sign(body, secret).encode(), candidate)
