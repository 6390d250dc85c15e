"""HMAC-SHA256 signatures of provider callbacks: `hex(HMAC(secret, "<ts>.<body>"))`."""

from __future__ import annotations

import hashlib
import hmac
import string
import time
from collections.abc import Sequence

_HEX = frozenset(string.hexdigits)
_SIGNATURE_LENGTH = hashlib.sha256().digest_size * 2


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "X-Timestamp": str(ts),
        "X-Signature": sign(secret, ts, body),
        "Content-Type": "application/json",
    }


def verify(
    secrets: Sequence[str],
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    window_seconds: int = 300,
    now: float | None = None,
) -> str | None:
    """None when authentic; otherwise the reject reason (`missing`, `stale`, `signature`)."""
    if not timestamp or not signature:
        return "missing"
    try:
        ts = int(timestamp)
    except ValueError:
        return "missing"
    if abs((time.time() if now is None else now) - ts) > window_seconds:
        return "stale"
    # Anything but 64 hex digits is a wrong signature, not an error (compare_digest refuses
    # non-ASCII str); the comparison itself is on bytes.
    if len(signature) != _SIGNATURE_LENGTH or not _HEX.issuperset(signature):
        return "signature"
    given = signature.lower().encode("ascii")
    valid = False
    for secret in secrets:  # two secrets during rotation; check all, in constant time each
        valid |= hmac.compare_digest(sign(secret, ts, body).encode("ascii"), given)
    return None if valid else "signature"
