"""A small HTTP/1.1 client for the header checks: h11 over asyncio streams (as the webhook transport), one
connection per request, connecting to the address the scan's policy allowed while keeping the host name for
`Host` and SNI. Certificates are not verified here: judging them is the `tls` scanner's job, and a broken
certificate must not hide a missing header.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import h11

from s4e_platform.scanners.tls.handshake import client_context
from s4e_platform.scanners.tls.target import Endpoint

BODY_LIMIT = 256 * 1024
_READ = 65536


class FetchError(Exception):
    """The request got no usable HTTP response. `kind`: refused (nothing listens), timeout, closed (reset or
    closed early), protocol (not HTTP), connect (any other connect/TLS failure)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Response:
    url: str
    method: str
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)  # (lower-case name, value), in order
    body: bytes = b""
    request_head: str = ""

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    def header(self, name: str) -> str | None:
        found = self.values(name)
        return found[0] if found else None

    @property
    def head(self) -> str:
        lines = [f"HTTP/1.1 {self.status} {self.reason}"] + [f"{k}: {v}" for k, v in self.headers]
        return "\r\n".join(lines)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True)
class Origin:
    """Where requests go: scheme plus the endpoint (name, allowed address, port)."""

    scheme: str
    endpoint: Endpoint

    def url(self, target: str) -> str:
        return f"{self.scheme}://{self.endpoint.host_header(self.scheme)}{target}"

    @classmethod
    def of(cls, url: str, ip: str) -> Origin:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        literal = host == ip or host.strip("[]") == ip
        return cls(scheme, Endpoint(None if literal else host, ip, parts.port or (443 if scheme == "https" else 80)))


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: h11.Connection,
                    request: h11.Request, body_limit: int) -> tuple[h11.Response, bytes]:
    writer.write(conn.send(request) + conn.send(h11.EndOfMessage()))
    await writer.drain()
    response, body = None, bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(_READ))
            continue
        if isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) >= body_limit:  # enough to judge; the rest is not read
                return response, bytes(body[:body_limit])
        elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
            if response is None:
                raise FetchError("connection closed before a response", "closed")
            return response, bytes(body)


async def fetch(origin: Origin, method: str, target: str, headers: list[tuple[str, str]], *, timeout: float,
                body_limit: int = BODY_LIMIT) -> Response:
    """One request; raises FetchError for anything but a parsed HTTP response."""
    ep = origin.endpoint
    tls = client_context() if origin.scheme == "https" else None
    all_headers = [("Host", ep.host_header(origin.scheme)), *headers, ("Connection", "close")]
    request = h11.Request(method=method, target=target, headers=all_headers)
    request_head = f"{method} {target} HTTP/1.1\r\n" + "\r\n".join(f"{k}: {v}" for k, v in all_headers)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(ep.ip, ep.port, ssl=tls, server_hostname=(ep.host or "") if tls else None,
                                    ssl_handshake_timeout=timeout if tls else None), timeout)
    except (OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
        kind = "refused" if isinstance(exc, ConnectionRefusedError) else (
            "timeout" if isinstance(exc, asyncio.TimeoutError) else "connect")
        raise FetchError(f"connect to {ep.where()} failed: {exc.__class__.__name__}", kind) from None
    try:
        conn = h11.Connection(h11.CLIENT)
        response, body = await asyncio.wait_for(_exchange(reader, writer, conn, request, body_limit), timeout)
    except (h11.ProtocolError, OSError, ssl.SSLError, asyncio.TimeoutError, FetchError) as exc:
        kind = "protocol" if isinstance(exc, h11.ProtocolError) else "timeout" if isinstance(
            exc, asyncio.TimeoutError) else "closed"
        raise FetchError(f"{method} {origin.url(target)}: {exc.__class__.__name__} {exc}".strip(), kind) from None
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 1.0)
        except (OSError, asyncio.TimeoutError, ssl.SSLError):
            pass
    decoded = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers]
    return Response(url=origin.url(target), method=method, status=response.status_code,
                    reason=response.reason.decode("latin-1"), headers=decoded, body=body, request_head=request_head)
