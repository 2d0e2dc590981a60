"""One webhook HTTP attempt (events.md 2.2, 2.3): SSRF-checked, pinned to a validated address (Host header
and TLS SNI keep the URL's host name), redirects never followed, one deadline over DNS + connect + TLS +
response, at most 64 KiB of the response read and 4 KiB kept.

HTTP/1.1 is spoken with h11 over asyncio streams (DESIGN: raw sockets on hot paths): a general client costs
about three times the CPU per request, which capped delivery throughput. Connections are kept alive per
endpoint and validated address."""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime

import h11
import httpx

from s4e_platform.kit import netsafety
from s4e_platform.kit.clock import isoformat, utcnow

READ_LIMIT = 64 * 1024
EXCERPT_LIMIT = 4 * 1024
RETRY_AFTER_CAP = 10 * 3600.0
_ssl_contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


@dataclass
class Attempt:
    """The outcome of one attempt, in the shape of the delivery log (api.md 3.4)."""

    started_at: datetime
    duration_ms: int = 0
    status_code: int | None = None
    error_class: str | None = None  # dns|ssrf_blocked|connect|tls|timeout|http_status|redirect
    error: str | None = None
    resolved_ip: str | None = None
    response_excerpt: str | None = None
    retry_after: float | None = None  # seconds, from a 429/503 Retry-After header
    _body: bytearray = field(default_factory=bytearray, repr=False)

    @property
    def succeeded(self) -> bool:
        return self.error_class is None and self.status_code is not None and 200 <= self.status_code < 300

    def log_entry(self, number: int) -> dict:
        return {"number": number, "started_at": isoformat(self.started_at), "duration_ms": self.duration_ms,
                "status_code": self.status_code, "error_class": self.error_class, "error": self.error,
                "resolved_ip": self.resolved_ip, "response_excerpt": self.response_excerpt}


def ssl_context() -> ssl.SSLContext:
    """The system trust store (or SSL_CERT_FILE / SSL_CERT_DIR), built once per setting: loading a CA bundle
    costs tens of milliseconds, too much to repeat per attempt."""
    key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    ctx = _ssl_contexts.get(key)
    if ctx is None:
        ctx = _ssl_contexts[key] = httpx.create_ssl_context(trust_env=True)
    return ctx


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            seconds = (parsedate_to_datetime(value) - utcnow()).total_seconds()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


class _Stale(Exception):
    """A reused keep-alive connection turned out closed before any response: retry on a fresh one."""


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    http: h11.Connection
    idle_since: float = 0.0

    def close(self) -> None:
        self.writer.close()


class Clients:
    """Idle keep-alive connections of one event loop, per (scheme, host name, port, validated address).

    Keying by host name as well as address means a connection whose TLS session was set up for one server
    name never carries a request for another name that happens to share the address."""

    def __init__(self, max_idle: int = 256, idle_seconds: float = 4.0) -> None:
        self.max_idle, self.idle_seconds = max_idle, idle_seconds
        self._idle: OrderedDict[tuple, list[_Connection]] = OrderedDict()

    def take(self, key: tuple) -> _Connection | None:
        conns = self._idle.get(key) or []
        now = time.monotonic()
        found = None
        while conns and found is None:
            conn = conns.pop()
            if now - conn.idle_since < self.idle_seconds and not conn.reader.at_eof():
                found = conn
            else:
                conn.close()
        if not conns:
            self._idle.pop(key, None)
        return found

    def put(self, key: tuple, conn: _Connection) -> None:
        conn.idle_since = time.monotonic()
        self._idle.setdefault(key, []).append(conn)
        self._idle.move_to_end(key)
        while sum(len(v) for v in self._idle.values()) > self.max_idle:
            oldest_key, oldest = next(iter(self._idle.items()))  # least recently used endpoint first
            oldest.pop(0).close()
            if not oldest:
                del self._idle[oldest_key]

    async def aclose(self) -> None:
        idle, self._idle = self._idle, OrderedDict()
        for conns in idle.values():
            for conn in conns:
                conn.close()


async def _connect(target: netsafety.OutboundURL, address: str) -> _Connection:
    """TCP (and TLS) to the validated address; SNI and certificate checks use the URL's host name."""
    tls = ssl_context() if target.scheme == "https" else None
    reader, writer = await asyncio.open_connection(
        address, target.port, ssl=tls, server_hostname=(target.sni_hostname or address) if tls else None)
    return _Connection(reader, writer, h11.Connection(h11.CLIENT, max_incomplete_event_size=READ_LIMIT))


async def _exchange(conn: _Connection, target: netsafety.OutboundURL, headers: list[tuple[str, str]],
                    body: bytes, attempt: Attempt, reused: bool) -> bool:
    """One request/response on `conn`; returns whether the connection may be kept for the next request."""
    data = conn.http.send(h11.Request(method="POST", target=target.target, headers=headers))
    data += conn.http.send(h11.Data(data=body)) + conn.http.send(h11.EndOfMessage())
    try:
        conn.writer.write(data)
        await conn.writer.drain()
    except (ConnectionError, OSError):
        if reused:
            raise _Stale() from None
        raise
    received = 0
    while True:
        event = conn.http.next_event()
        if event is h11.NEED_DATA:
            try:
                chunk = await conn.reader.read(READ_LIMIT)
            except (ConnectionError, OSError):
                chunk = b""
                if not (reused and attempt.status_code is None):
                    raise
            if not chunk and reused and attempt.status_code is None:
                raise _Stale()  # the server had closed the idle connection
            conn.http.receive_data(chunk)
        elif isinstance(event, h11.Response):
            attempt.status_code = event.status_code
            if event.status_code in (429, 503):
                retry = [v for k, v in event.headers if k == b"retry-after"]
                attempt.retry_after = _retry_after(retry[0].decode("latin-1")) if retry else None
        elif isinstance(event, h11.Data):
            take = bytes(event.data[:READ_LIMIT - received])
            received += len(take)
            if len(attempt._body) < EXCERPT_LIMIT:
                attempt._body.extend(take[:EXCERPT_LIMIT - len(attempt._body)])
            if received >= READ_LIMIT:
                return False  # 64 KiB read: stop here and drop the connection
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    if conn.http.our_state is h11.DONE and conn.http.their_state is h11.DONE:
        conn.http.start_next_cycle()
        return True
    return False


async def _post(target: netsafety.OutboundURL, addresses: list, body: bytes, headers: dict[str, str],
                attempt: Attempt, clients: Clients) -> None:
    sent = [("Host", target.host_header), *headers.items(), ("Content-Length", str(len(body))),
            ("Accept-Encoding", "identity")]
    last_error: Exception | None = None
    for address in (str(a) for a in addresses):  # validated addresses only, never a fresh lookup
        attempt.resolved_ip = address
        key = (target.scheme, target.host, target.port, address, id(ssl_context()))
        for conn in (clients.take(key), None):
            reused = conn is not None
            try:
                if conn is None:
                    conn = await _connect(target, address)
                keep = await _exchange(conn, target, sent, body, attempt, reused)
            except _Stale:
                conn.close()
                continue
            except ssl.SSLError as exc:
                attempt.error_class, attempt.error = "tls", str(exc) or "TLS handshake failed"
                return
            except (OSError, h11.ProtocolError) as exc:
                if conn is not None:
                    conn.close()
                if attempt.status_code is not None or isinstance(exc, h11.ProtocolError):
                    attempt.error_class, attempt.error = "connect", str(exc) or type(exc).__name__
                    return
                last_error = exc  # try the next validated address
                break
            except BaseException:
                if conn is not None:
                    conn.close()  # cancelled by the deadline mid-exchange: the connection is unusable
                raise
            if keep:
                clients.put(key, conn)
            else:
                conn.close()
            return
    attempt.error_class = "connect"
    attempt.error = str(last_error) if last_error else "no address to connect to"


def _finish(attempt: Attempt, started: float) -> Attempt:
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    if attempt._body:
        attempt.response_excerpt = bytes(attempt._body).decode("utf-8", errors="replace")
    status = attempt.status_code
    if attempt.error_class is None and status is not None and not 200 <= status < 300:
        attempt.error_class = "redirect" if 300 <= status < 400 else "http_status"
        attempt.error = f"HTTP {status}"
    return attempt


async def _check(url: str, timeout: float) -> tuple[netsafety.OutboundURL, list]:
    check = functools.partial(netsafety.check_for_request, url, timeout=timeout)
    if netsafety.parse_url(url).literal is not None:
        return check()  # nothing to resolve: no thread hop
    return await asyncio.get_running_loop().run_in_executor(None, check)


async def send(url: str, body: bytes, headers: dict[str, str], *, timeout: float,
               clients: Clients | None = None) -> Attempt:
    """POST `body` to `url` once. Never raises for network outcomes: they are classified in the result.
    Without `clients` the connection is not kept (one-off sends such as test pings)."""
    attempt = Attempt(started_at=utcnow())
    started = time.monotonic()
    own = clients is None
    clients = clients or Clients()
    try:
        async with asyncio.timeout(timeout):
            try:
                target, addresses = await _check(url, timeout)
            except netsafety.UnsafeURL as exc:
                attempt.error_class, attempt.error = "ssrf_blocked", exc.message
                return _finish(attempt, started)
            except netsafety.ResolutionFailed as exc:
                attempt.error_class, attempt.error = "dns", str(exc)
                return _finish(attempt, started)
            await _post(target, addresses, body, headers, attempt, clients)
    except TimeoutError:
        # A status received before the deadline stands (a 2xx is a success even if its body dribbles).
        if attempt.status_code is None and attempt.error_class is None:
            attempt.error_class, attempt.error = "timeout", f"no response within {timeout:g} s"
    finally:
        if own:
            await clients.aclose()
    return _finish(attempt, started)
