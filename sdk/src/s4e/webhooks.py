"""Verify webhook requests signed by S4E (Standard Webhooks v1, events.md 2.1).

    from s4e.webhooks import verify
    event = verify(request.body, request.headers, secret)   # raises WebhookVerificationError

The signature is `v1,` + base64(HMAC-SHA256(base64-decode(secret after `whsec_`),
`<webhook-id>.<webhook-timestamp>.<raw body>`)); the header may carry several space-separated signatures (after
a secret rotation both secrets sign for 24 h). Pass the raw body bytes exactly as received: re-serialised JSON
does not verify. De-duplicate on `event.id` (the `webhook-id`), which is stable across retries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence

from s4e.errors import WebhookVerificationError
from s4e.models.event import Event

__all__ = ["verify", "sign", "DEFAULT_TOLERANCE"]

DEFAULT_TOLERANCE = 300
"""Seconds a `webhook-timestamp` may differ from the receiver's clock (either way)."""
SECRET_PREFIX = "whsec_"


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"Missing {name} header")


def _key(secret: str) -> bytes:
    raw = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("The webhook secret is not whsec_<base64>") from None
    if not key:
        raise WebhookVerificationError("The webhook secret is empty")
    return key


def _signature(key: bytes, msg_id: str, timestamp: str, payload: bytes) -> bytes:
    return hmac.new(key, f"{msg_id}.{timestamp}.".encode() + payload, hashlib.sha256).digest()


def sign(payload: bytes | str, *, msg_id: str, timestamp: int, secret: str) -> str:
    """The `webhook-signature` value for a payload (useful to test a receiver)."""
    body = payload.encode("utf-8") if isinstance(payload, str) else payload
    digest = _signature(_key(secret), msg_id, str(timestamp), body)
    return "v1," + base64.b64encode(digest).decode()


def verify(payload: bytes | str, headers: Mapping[str, str], secret: str | Sequence[str], *,
           tolerance: int = DEFAULT_TOLERANCE, now: float | None = None) -> Event:
    """Check a webhook request and return its event.

    `payload` is the raw request body, `headers` the request headers (any case), `secret` the endpoint's
    `whsec_...` secret, or several of them while rotating. Raises WebhookVerificationError when a header is
    missing, the timestamp is more than `tolerance` seconds off, no signature matches, or the body is not an
    event.
    """
    body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise WebhookVerificationError("Invalid webhook-timestamp header") from None
    current = time.time() if now is None else now
    if sent_at < current - tolerance:
        raise WebhookVerificationError("Message timestamp too old")
    if sent_at > current + tolerance:
        raise WebhookVerificationError("Message timestamp too new")
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise WebhookVerificationError("No webhook secret given")
    expected = [_signature(_key(s), msg_id, timestamp, body) for s in secrets]
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version != "v1":
            continue
        try:
            candidate = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        if any(hmac.compare_digest(candidate, digest) for digest in expected):
            return _event(body)
    raise WebhookVerificationError("No matching signature found")


def _event(body: bytes) -> Event:
    try:
        data = json.loads(body)
    except ValueError:
        raise WebhookVerificationError("The signed payload is not JSON") from None
    if not isinstance(data, dict):
        raise WebhookVerificationError("The signed payload is not an event object")
    try:
        return Event.model_validate(data)
    except ValueError as exc:
        raise WebhookVerificationError(f"The signed payload is not an event: {exc}") from None
