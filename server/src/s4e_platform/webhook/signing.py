"""Standard Webhooks v1 signing (events.md 2.1): secrets, signatures and the request headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as _secrets

from s4e_platform import __version__

SECRET_PREFIX = "whsec_"
USER_AGENT = f"S4E-Webhooks/{__version__}"


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>"))."""
    message = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature per active secret, space-separated (old and new both sign during a rotation)."""
    return " ".join(signature(s, msg_id, timestamp, body) for s in secrets)


def request_headers(*, msg_id: str, timestamp: int, body: bytes, secrets: list[str],
                    custom: dict[str, str]) -> dict[str, str]:
    """Headers in the documented order; the endpoint's custom headers last (their names were vetted on save)."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
    }
    for name, value in custom.items():
        for existing in [k for k in headers if k.lower() == name.lower()]:
            del headers[existing]  # e.g. a custom User-Agent replaces ours instead of doubling it
        headers[name] = value
    return headers
