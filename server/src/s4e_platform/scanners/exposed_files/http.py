"""A small HTTP/1.1 client for scanners: h11 over asyncio streams (DESIGN: raw asyncio on scanner hot paths,
not httpx), pinned to one validated address per origin.

Why not a general client: the connection must go to the address the scan's address policy allowed (never a fresh
DNS lookup), while the Host header and TLS SNI keep the scanned name; certificates are not verified (an exposed
file on a self-signed host is still exposed; judging certificates is the `tls` scanner's job); and bodies are read
only up to what a check needs, dropping the connection past that so a huge or endless response costs nothing.
Keep-alive connections are reused, at most `max_connections` in flight per origin, paced by a token bucket.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, field

import h11

HEADER_LIMIT = 64 * 1024
READ_CHUNK = 64 * 1024
_OWN_HEADERS = frozenset({"host", "user-agent", "accept", "accept-encoding"})


class HttpError(Exception):
    """A request that produced no usable response. `kind`: connect, tls, timeout, protocol."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _tls_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:  # reach old servers too: what they expose matters more than how they negotiate
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pass
    return ctx


_TLS = _tls_context()


@dataclass(frozen=True)
class Origin:
    """Where requests go: `host` is the name sent as Host/SNI, `address` the validated address connected to."""

    scheme: str
    host: str
    port: int
    address: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    def url(self, target: str) -> str:
        return f"{self.scheme}://{self.host_header}{target}"

    @property
    def sni(self) -> str | None:
        return None if self.host == self.address or ":" in self.host else self.host


@dataclass
class Response:
    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]]
    body: bytes
    truncated: bool = False  # the body went on past the read limit

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    def head_text(self) -> str:
        lines = [f"HTTP/{self.http_version} {self.status} {self.reason}".rstrip()]
        lines += [f"{k}: {v}" for k, v in self.headers]
        return "\r\n".join(lines) + "\r\n\r\n"


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    http: h11.Connection = field(default_factory=lambda: h11.Connection(
        h11.CLIENT, max_incomplete_event_size=HEADER_LIMIT))

    def close(self) -> None:
        self.writer.close()


class Pacer:
    """Token bucket: at most `rate` requests per second, bursts of up to one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate, self.capacity = rate, max(rate, 1.0)
        self.tokens, self.at = self.capacity, time.monotonic()
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
                self.at = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


class HttpClient:
    """GET requests to one origin. Never follows redirects: the caller decides what a redirect means."""

    def __init__(self, origin: Origin, *, timeout: float = 10.0, max_connections: int = 4, rate: float = 20.0,
                 headers: dict[str, str] | None = None, user_agent: str = "S4E-Scanner") -> None:
        self.origin = origin
        self.timeout = timeout
        self._gate = asyncio.Semaphore(max_connections)
        self._pacer = Pacer(rate)
        self._idle: list[_Conn] = []
        extra = {k.lower(): (k, v) for k, v in (headers or {}).items()}
        defaults = [("Host", origin.host_header), ("User-Agent", user_agent), ("Accept", "*/*"),
                    ("Accept-Encoding", "identity")]
        self._headers = [extra.pop(k.lower(), (k, v)) for k, v in defaults] + list(extra.values())
        self.requests = 0

    def request_text(self, target: str) -> str:
        """The request as sent, for evidence; values of the scan's own extra headers (often credentials) masked."""
        lines = [f"{k}: {v if k.lower() in _OWN_HEADERS else '********'}\r\n" for k, v in self._headers]
        return f"GET {target} HTTP/1.1\r\n" + "".join(lines) + "\r\n"

    async def get(self, target: str, *, max_bytes: int = 1024 * 1024) -> Response:
        async with self._gate:
            await self._pacer.wait()
            self.requests += 1
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._get(target, max_bytes)
            except TimeoutError:
                raise HttpError("timeout", f"no complete response within {self.timeout:g} s") from None

    async def _get(self, target: str, max_bytes: int) -> Response:
        conn = self._idle.pop() if self._idle else None
        if conn is not None:
            try:
                return await self._exchange(conn, target, max_bytes)
            except (_Stale, OSError, h11.ProtocolError):
                conn.close()  # the server closed the idle connection: one retry on a fresh one
            except BaseException:
                conn.close()  # cancelled or timed out mid-exchange: the connection is unusable
                raise
        conn = await self._connect()
        try:
            return await self._exchange(conn, target, max_bytes)
        except _Stale:
            conn.close()
            raise HttpError("protocol", "connection closed before a response") from None
        except h11.ProtocolError as exc:
            conn.close()
            raise HttpError("protocol", f"malformed HTTP response: {exc}") from None
        except OSError as exc:
            conn.close()
            raise HttpError("connect", str(exc) or type(exc).__name__) from None
        except BaseException:
            conn.close()
            raise

    async def _connect(self) -> _Conn:
        tls = _TLS if self.origin.scheme == "https" else None
        try:
            reader, writer = await asyncio.open_connection(
                self.origin.address, self.origin.port, ssl=tls,
                server_hostname=(self.origin.sni or "") if tls else None)
        except ssl.SSLError as exc:
            raise HttpError("tls", str(exc) or "TLS handshake failed") from None
        except OSError as exc:
            raise HttpError("connect", str(exc) or type(exc).__name__) from None
        return _Conn(reader, writer)

    async def _exchange(self, conn: _Conn, target: str, max_bytes: int) -> Response:
        data = conn.http.send(h11.Request(method="GET", target=target, headers=self._headers))
        data += conn.http.send(h11.EndOfMessage())
        conn.writer.write(data)
        await conn.writer.drain()
        response: Response | None = None
        body = bytearray()
        while True:
            event = conn.http.next_event()
            if event is h11.NEED_DATA:
                chunk = await conn.reader.read(READ_CHUNK)
                if not chunk and response is None:
                    raise _Stale()
                conn.http.receive_data(chunk)
            elif isinstance(event, h11.Response):
                response = Response(
                    status=event.status_code, reason=event.reason.decode("latin-1", "replace"),
                    http_version=event.http_version.decode("ascii", "replace"),
                    headers=[(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in event.headers],
                    body=b"")
            elif isinstance(event, h11.Data):
                body.extend(event.data[:max_bytes - len(body)])
                if len(body) >= max_bytes:
                    response.truncated = True
                    conn.close()  # enough read: the rest of the body is not worth the bandwidth
                    break
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
        response.body = bytes(body)
        if not response.truncated:
            if conn.http.our_state is h11.DONE and conn.http.their_state is h11.DONE:
                conn.http.start_next_cycle()
                self._idle.append(conn)
            else:
                conn.close()
        return response

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class _Stale(Exception):
    """A connection closed before any response byte."""
