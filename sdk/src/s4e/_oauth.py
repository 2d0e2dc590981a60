"""OAuth 2.0 client credentials (api.md 1.3): the token request, and the token a client holds between calls.

A client built with `client_id`/`client_secret` asks `POST /oauth/token` for a JWT on its first call, reuses it,
and asks for a new one shortly before its 900 s lifetime ends (tokens cannot be refreshed, only re-issued), or
straight away when the server rejects it with 401 (a server restarted with a new secret, a clock jump).
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Union
from urllib.parse import quote_plus, urlencode

import httpx
from pydantic import ValidationError as PydanticValidationError

from s4e.errors import APIResponseError, ConfigurationError
from s4e.models.oauth import AccessToken

TOKEN_PATH = "/oauth/token"
FORM_TYPE = "application/x-www-form-urlencoded"
REFRESH_MARGIN = 60.0
"""Seconds before expiry at which a held token is replaced, so a request never leaves with a dying token."""

Scope = Union[str, Sequence[str], None]


def _monotonic() -> float:
    return time.monotonic()


def scope_string(scope: Scope) -> str | None:
    """`"read:assets read:events"` from a string or a list; None asks for every scope of the client."""
    if scope is None:
        return None
    if isinstance(scope, str):
        parts = scope.split()
    else:
        parts = [str(s).strip() for s in scope]
    parts = [p for p in parts if p]
    return " ".join(parts) or None


def token_request(client_id: str, client_secret: str, scope: Scope) -> tuple[bytes, dict[str, str]]:
    """Form body and headers of a client-credentials request (HTTP Basic, both parts form-encoded: RFC 6749
    2.3.1, so a `:` or non-ASCII character in them survives)."""
    if not client_id or not client_secret:
        raise ConfigurationError("An OAuth token needs both client_id and client_secret")
    form = {"grant_type": "client_credentials"}
    wanted = scope_string(scope)
    if wanted:
        form["scope"] = wanted
    basic = base64.b64encode(f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()).decode("ascii")
    return urlencode(form).encode("ascii"), {"Content-Type": FORM_TYPE, "Authorization": f"Basic {basic}",
                                             "Cache-Control": "no-store"}


def parse_token(response: httpx.Response) -> AccessToken:
    """The RFC 6749 5.1 body of a token response, with `expires_at` computed from `expires_in`."""
    try:
        body = response.json()
        token = AccessToken.model_validate(body)
    except (ValueError, PydanticValidationError):
        raise APIResponseError("The token endpoint did not return an RFC 6749 access token",
                               code="invalid_response", status_code=response.status_code,
                               request_id=response.headers.get("x-request-id"), response=response) from None
    if token.token_type.lower() != "bearer":
        raise APIResponseError(f"Unsupported token type {token.token_type!r}", code="invalid_response",
                               status_code=response.status_code, response=response)
    token.expires_at = datetime.now(timezone.utc) + timedelta(seconds=token.expires_in)
    return token


class ClientCredentials:
    """An OAuth client's id and secret, and the access token currently held for them."""

    def __init__(self, client_id: str, client_secret: str, scope: Scope = None) -> None:
        if not isinstance(client_id, str) or not client_id.strip():
            raise ConfigurationError("client_id must be a non-empty string (cli_...)")
        if not isinstance(client_secret, str) or not client_secret:
            raise ConfigurationError("client_secret must be a non-empty string (s4e_oc_...)")
        self.client_id = client_id.strip()
        self.client_secret = client_secret
        self.scope = scope_string(scope)
        self.token: AccessToken | None = None
        self._renew_at = 0.0
        self.lock = threading.Lock()
        self._async_lock: asyncio.Lock | None = None

    def current(self) -> str | None:
        """The held access token while it has more than the refresh margin left, else None."""
        if self.token is not None and _monotonic() < self._renew_at:
            return self.token.access_token
        return None

    def store(self, token: AccessToken) -> None:
        self.token = token
        margin = min(REFRESH_MARGIN, token.expires_in / 2)
        self._renew_at = _monotonic() + token.expires_in - margin

    def discard(self, access_token: str) -> None:
        """Forget a token the server rejected (unless another request already replaced it)."""
        if self.token is not None and self.token.access_token == access_token:
            self.token = None

    def request(self) -> tuple[bytes, dict[str, str]]:
        return token_request(self.client_id, self.client_secret, self.scope)

    def async_lock(self) -> asyncio.Lock:
        # Created on first use inside the running loop: on Python 3.9 a Lock binds to the loop current at
        # construction, which may not be the one the client is used in.
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        return self._async_lock
