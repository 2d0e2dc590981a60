"""HTTP transport: authentication headers, retries with backoff and jitter, Idempotency-Key, error mapping.

Retried (api.md 1.9/1.10): connect errors (the request never reached the server), 429 (after `Retry-After`),
502/503/504, and 409 `idempotency_in_progress` (a retry that overtook its own first attempt). Every POST carries
one Idempotency-Key for all of its attempts, so a create whose response was lost is replayed by the server
instead of running twice. Other failures raise at once.

Credentials: an API key, or OAuth client credentials (`s4e._oauth`) for which the transport fetches a token on
first use, renews it before it expires, and replaces it once per call when the server answers 401.
"""

from __future__ import annotations

import asyncio
import json
import platform
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, Union

import httpx

from s4e._oauth import TOKEN_PATH, ClientCredentials, parse_token
from s4e._version import __version__
from s4e.errors import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    ConfigurationError,
    error_from_response,
    parse_retry_after,
)
from s4e.models.oauth import AccessToken

RETRY_STATUSES = frozenset({429, 502, 503, 504})
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 60.0
"""A longer Retry-After is raised as RateLimitError instead of silently blocking the caller."""
STREAM_READ_TIMEOUT = 45.0
"""SSE sends a heartbeat every 15 s: three missed heartbeats mean the connection is dead."""

Timeout = Union[float, httpx.Timeout, None]
"""Seconds (None: no limit) or an httpx.Timeout with separate connect/read/write/pool limits."""
Content = Union[bytes, Callable[[], Iterator[bytes]], Callable[[], AsyncIterator[bytes]], None]


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


async def _async_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


def new_idempotency_key() -> str:
    """A fresh Idempotency-Key (printable ASCII, well under the 255-character limit)."""
    return f"s4e-sdk-{uuid.uuid4().hex}"


def backoff(retries_done: int) -> float:
    """Exponential backoff with equal jitter: half the step is fixed, half random."""
    step = min(MAX_BACKOFF, INITIAL_BACKOFF * (2 ** retries_done))
    return step / 2 + random.uniform(0, step / 2)


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None


def envelope(response: httpx.Response) -> dict[str, Any]:
    """The decoded `{data, meta}` body of a success response."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "data" not in body:
        raise APIResponseError("The response is not an S4E envelope (is the base URL the API root?)",
                               code="invalid_response", status_code=response.status_code,
                               request_id=response.headers.get("x-request-id"), response=response)
    return body


class BaseTransport:
    """Settings and decisions shared by the sync and async transports."""

    def __init__(self, *, api_key: str | None, base_url: str, timeout: Timeout, retries: int,
                 workspace: str | None, credentials: ClientCredentials | None = None) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ConfigurationError(f"base_url must be an http(s) URL such as http://127.0.0.1:8000/api/v1, "
                                     f"not {base_url!r}")
        if retries < 0:
            raise ConfigurationError("retries must be >= 0")
        self.base_url = str(url).rstrip("/")
        self.api_key = api_key
        self.credentials = credentials
        """OAuth client credentials used instead of `api_key` (a token is fetched and renewed as needed)."""
        self.workspace = workspace
        self.retries = retries
        if isinstance(timeout, httpx.Timeout):
            self.timeout = timeout
        else:
            self.timeout = httpx.Timeout(None if timeout is None else float(timeout))

    def url(self, path: str) -> str:
        return self.base_url + path

    def headers(self, idempotency_key: str | None, extra: Mapping[str, str] | None,
                bearer: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json",
                   "User-Agent": f"s4e-sdk/{__version__} python/{platform.python_version()}"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
            if self.workspace:
                headers["X-S4E-Workspace"] = self.workspace
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        headers.update(extra or {})
        return headers

    def stream_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout.connect, read=STREAM_READ_TIMEOUT, write=self.timeout.write,
                             pool=self.timeout.pool)

    def retry_delay(self, retries_done: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before the next attempt, or None to give up (`response` None = connect error)."""
        if retries_done >= self.retries:
            return None
        if response is None:
            return backoff(retries_done)
        status = response.status_code
        if status == 409 and _error_code(response) == "idempotency_in_progress":
            return backoff(retries_done)
        if status not in RETRY_STATUSES:
            return None
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is None:
            return backoff(retries_done)
        if retry_after > MAX_RETRY_AFTER:
            return None
        # A little jitter on top so clients told the same Retry-After do not return in lockstep.
        return retry_after + random.uniform(0, min(1.0, 0.1 + retry_after * 0.1))

    def reauthenticate(self, response: httpx.Response, bearer: str | None, done: bool) -> bool:
        """Whether to retry at once with a fresh OAuth token: the server refused the one we held (once per call)."""
        if done or self.credentials is None or not bearer or response.status_code != 401:
            return False
        self.credentials.discard(bearer)
        return True

    def prepare(self, method: str, idempotency_key: str | None) -> str | None:
        if idempotency_key is not None:
            return idempotency_key
        return new_idempotency_key() if method == "POST" else None


def _connection_error(exc: httpx.TransportError) -> APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"Request timed out ({type(exc).__name__})")
    return APIConnectionError(f"Could not reach the S4E API: {exc or type(exc).__name__}")


_RETRYABLE_TRANSPORT = (httpx.ConnectError, httpx.ConnectTimeout)


class SyncTransport(BaseTransport):
    """Blocking transport over an `httpx.Client` (ours, or one the caller injected and keeps owning)."""

    def __init__(self, *, http_client: httpx.Client | None = None, proxy: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owns_client = http_client is None
        self.http = http_client or httpx.Client(timeout=self.timeout, proxy=proxy, follow_redirects=False)

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None, json: Any = None,
                content: Content = None, headers: Mapping[str, str] | None = None,
                idempotency_key: str | None = None, stream: bool = False,
                authenticate: bool = True) -> httpx.Response:
        """Send with retries; returns a 2xx response (open when `stream`), raises the mapped error otherwise."""
        key = self.prepare(method, idempotency_key)
        retries_done = 0
        reauthenticated = False
        while True:
            bearer = self.bearer() if authenticate else None
            body = content() if callable(content) else content
            req = self.http.build_request(method, self.url(path), params=params, json=json, content=body,
                                          headers=self.headers(key, headers, bearer),
                                          timeout=self.stream_timeout() if stream else self.timeout)
            try:
                response = self.http.send(req, stream=stream)
            except _RETRYABLE_TRANSPORT as exc:
                delay = self.retry_delay(retries_done, None)
                if delay is None:
                    raise _connection_error(exc) from exc
                _sleep(delay)
                retries_done += 1
                continue
            except httpx.TransportError as exc:
                raise _connection_error(exc) from exc
            if response.status_code < 300:
                return response
            if stream:
                response.read()
                response.close()
            if self.reauthenticate(response, bearer, reauthenticated):
                reauthenticated = True
                continue
            delay = self.retry_delay(retries_done, response)
            if delay is None:
                raise error_from_response(response)
            _sleep(delay)
            retries_done += 1

    def bearer(self) -> str | None:
        """The bearer credential for the next request: the API key, or a valid OAuth token (fetched if needed)."""
        creds = self.credentials
        if creds is None:
            return self.api_key
        token = creds.current()
        if token is None:
            with creds.lock:  # one token request for many threads that find the token expired together
                token = creds.current() or self.fetch_token(creds).access_token
        return token

    def fetch_token(self, creds: ClientCredentials) -> AccessToken:
        """Exchange client credentials for an access token; the transport's own credentials keep it."""
        body, headers = creds.request()
        # No Idempotency-Key: the server never stores token responses for replay.
        response = self.request("POST", TOKEN_PATH, content=body, headers=headers, idempotency_key="",
                                authenticate=False)
        token = parse_token(response)
        if creds is self.credentials:
            creds.store(token)
        return token

    def close(self) -> None:
        if self._owns_client:
            self.http.close()


class AsyncTransport(BaseTransport):
    """The asyncio twin of SyncTransport over an `httpx.AsyncClient`."""

    def __init__(self, *, http_client: httpx.AsyncClient | None = None, proxy: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owns_client = http_client is None
        self.http = http_client or httpx.AsyncClient(timeout=self.timeout, proxy=proxy, follow_redirects=False)

    async def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                      json: Any = None, content: Content = None,
                      headers: Mapping[str, str] | None = None, idempotency_key: str | None = None,
                      stream: bool = False, authenticate: bool = True) -> httpx.Response:
        """Send with retries; returns a 2xx response (open when `stream`), raises the mapped error otherwise."""
        key = self.prepare(method, idempotency_key)
        retries_done = 0
        reauthenticated = False
        while True:
            bearer = await self.bearer() if authenticate else None
            body = content() if callable(content) else content
            req = self.http.build_request(method, self.url(path), params=params, json=json, content=body,
                                          headers=self.headers(key, headers, bearer),
                                          timeout=self.stream_timeout() if stream else self.timeout)
            try:
                response = await self.http.send(req, stream=stream)
            except _RETRYABLE_TRANSPORT as exc:
                delay = self.retry_delay(retries_done, None)
                if delay is None:
                    raise _connection_error(exc) from exc
                await _async_sleep(delay)
                retries_done += 1
                continue
            except httpx.TransportError as exc:
                raise _connection_error(exc) from exc
            if response.status_code < 300:
                return response
            if stream:
                await response.aread()
                await response.aclose()
            if self.reauthenticate(response, bearer, reauthenticated):
                reauthenticated = True
                continue
            delay = self.retry_delay(retries_done, response)
            if delay is None:
                raise error_from_response(response)
            await _async_sleep(delay)
            retries_done += 1

    async def bearer(self) -> str | None:
        """The bearer credential for the next request: the API key, or a valid OAuth token (fetched if needed)."""
        creds = self.credentials
        if creds is None:
            return self.api_key
        token = creds.current()
        if token is None:
            async with creds.async_lock():
                token = creds.current() or (await self.fetch_token(creds)).access_token
        return token

    async def fetch_token(self, creds: ClientCredentials) -> AccessToken:
        """Exchange client credentials for an access token; the transport's own credentials keep it."""
        body, headers = creds.request()
        response = await self.request("POST", TOKEN_PATH, content=body, headers=headers, idempotency_key="",
                                      authenticate=False)
        token = parse_token(response)
        if creds is self.credentials:
            creds.store(token)
        return token

    async def close(self) -> None:
        if self._owns_client:
            await self.http.aclose()
