"""A full TLS handshake with Python's `ssl` (OpenSSL): the negotiated protocol and suite, the certificate chain
exactly as the server sent it, and one HTTP request over the session to read `Strict-Transport-Security`.

Verification is off on purpose: the chain is judged afterwards by certificate.py, so an expired or untrusted
certificate is reported instead of aborting the connection. `@SECLEVEL=0` lets OpenSSL talk to servers with
small keys or SHA-1 signatures, the very servers this scanner must describe.
"""

from __future__ import annotations

import _ssl
import asyncio
import ssl
import warnings
from dataclasses import dataclass, field

_HEADER_LIMIT = 64 * 1024
_HTTP_TIMEOUT = 5.0


@dataclass
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)  # (lower-case name, value)

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


@dataclass
class Handshake:
    protocol: str | None = None
    cipher: str | None = None
    chain: list[bytes] = field(default_factory=list)
    http: HttpAnswer | None = None
    error: str | None = None


def client_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    with warnings.catch_warnings():  # TLSv1 is deprecated, which is why servers still offering it are reported
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    return ctx


def peer_chain(obj: ssl.SSLObject) -> list[bytes]:
    """DER certificates as the server sent them, leaf first. Python 3.13 has a public `get_unverified_chain`;
    3.11/3.12 have the same method on the private `_sslobj`; without either only the leaf is known."""
    for holder in (obj, getattr(obj, "_sslobj", None)):
        getter = getattr(holder, "get_unverified_chain", None)
        if getter is not None:
            chain = getter() or []
            return [c if isinstance(c, bytes) else c.public_bytes(_ssl.ENCODING_DER) for c in chain]
    leaf = obj.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def _parse_head(head: bytes) -> HttpAnswer | None:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        return None
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name and name == name.strip():
            headers.append((name.lower(), value.strip()))
    return HttpAnswer(int(parts[1]), headers)


async def _http_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host_header: str,
                     user_agent: str) -> HttpAnswer | None:
    """GET / and parse the response head; None when the service does not speak HTTP."""
    request = (f"GET / HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\n"
               "Connection: close\r\n\r\n")
    writer.write(request.encode("ascii", "replace"))
    await writer.drain()
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _HTTP_TIMEOUT)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ConnectionError,
            ssl.SSLError):
        return None
    return _parse_head(head)


async def connect(ip: str, port: int, *, server_name: str | None, host_header: str, timeout: float,
                  user_agent: str, http: bool = True) -> Handshake:
    """Handshake, collect the chain, optionally read one HTTP response head. Never raises for network trouble."""
    result = Handshake()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(ip, port, ssl=client_context(), server_hostname=server_name or "",
                                    ssl_handshake_timeout=timeout, limit=_HEADER_LIMIT), timeout * 2)
    except (OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
        result.error = f"{exc.__class__.__name__}: {exc}"
        return result
    try:
        obj = writer.get_extra_info("ssl_object")
        result.protocol = obj.version()
        cipher = obj.cipher()
        result.cipher = cipher[0] if cipher else None
        result.chain = peer_chain(obj)
        if http:
            result.http = await _http_head(reader, writer, host_header, user_agent)
    except (OSError, ssl.SSLError) as exc:
        result.error = f"{exc.__class__.__name__}: {exc}"
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 1.0)
        except (OSError, asyncio.TimeoutError, ssl.SSLError):
            pass
    return result
