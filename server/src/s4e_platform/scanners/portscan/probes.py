"""Probe building blocks: the bounded probe connection, what a probe returns, and the probe wrapper.

Our own probes live in probe_text.py (server-first text protocols), probe_data.py (databases, caches, brokers),
probe_web.py (TLS, HTTP) and probe_windows.py (RDP, SMB); detect.py decides which run on a port.
Reads are bounded (64 KiB per connection) and every wait has a deadline, so a hostile or tar-pit service costs
at most a few seconds.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

MAX_READ = 65536


@dataclass
class ProbeConfig:
    timeout: float = 3.0  # connect and each read of a probe
    banner_wait: float = 1.5  # how long a silent service may stay silent before we speak
    user_agent: str = "S4E-Scanner"
    before_connect: Callable[[], Awaitable[None]] | None = None  # per-host rate limiter


@dataclass
class ProbeTarget:
    ip: str
    port: int
    host: str | None  # the name being scanned: HTTP Host and TLS SNI
    config: ProbeConfig


@dataclass
class Identified:
    """What a probe learnt. `details` carries protocol facts the finding rules use."""

    service: str
    product: str | None = None
    version: str | None = None
    banner: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class ProbeError(Exception):
    """The peer did not speak the protocol (closed, timed out, or answered something else)."""


class Conn:
    """One probe connection with bounded reads and deadlines."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float) -> None:
        self.reader, self.writer, self.timeout = reader, writer, timeout
        self.received = 0

    @classmethod
    async def open(cls, target: ProbeTarget, tls: ssl.SSLContext | None = None) -> Conn:
        cfg = target.config
        if cfg.before_connect is not None:
            await cfg.before_connect()
        server_hostname = (target.host or None) if tls is not None else None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                target.ip, target.port, ssl=tls, server_hostname=server_hostname, limit=MAX_READ,
                ssl_handshake_timeout=cfg.timeout if tls is not None else None), cfg.timeout)
        except (OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
            raise ProbeError(f"connect failed: {exc.__class__.__name__}") from None
        return cls(reader, writer, cfg.timeout)

    @property
    def tls_object(self) -> ssl.SSLObject | None:
        return self.writer.get_extra_info("ssl_object")

    async def send(self, data: bytes) -> None:
        try:
            self.writer.write(data)
            await asyncio.wait_for(self.writer.drain(), self.timeout)
        except (OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
            raise ProbeError(f"send failed: {exc.__class__.__name__}") from None

    async def recv(self, timeout: float | None = None, size: int = 4096) -> bytes:
        """Whatever arrives first (b"" on EOF or when nothing came within the timeout)."""
        size = min(size, MAX_READ - self.received)
        if size <= 0:
            return b""
        try:
            data = await asyncio.wait_for(self.reader.read(size), timeout or self.timeout)
        except (asyncio.TimeoutError, OSError, ssl.SSLError):
            return b""
        self.received += len(data)
        return data

    async def recv_until(self, done: Callable[[bytes], bool], timeout: float | None = None,
                         limit: int = 16384, initial: bytes = b"") -> bytes:
        """Read until `done(buffer)` holds, EOF, `limit` bytes or the deadline (whichever first); the buffer
        starts with `initial` (bytes already read)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout or self.timeout)
        buf = initial
        while not done(buf) and len(buf) < limit:
            left = deadline - loop.time()
            if left <= 0:
                break
            chunk = await self.recv(left, min(4096, limit - len(buf)))
            if not chunk:
                break
            buf += chunk
        return buf

    async def recv_exact(self, size: int, timeout: float | None = None) -> bytes:
        data = await self.recv_until(lambda b: len(b) >= size, timeout, limit=size)
        if len(data) < size:
            raise ProbeError("short read")
        return data

    async def close(self) -> None:
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)
        except (OSError, asyncio.TimeoutError, ssl.SSLError):
            pass


def text(data: bytes, limit: int = 1024) -> str:
    """Bytes from the wire as printable text for banners and evidence."""
    decoded = data[:limit].decode("utf-8", "replace")
    return "".join(c if c in "\r\n\t" or (c.isprintable() and c != "\ufffd") else "." for c in decoded).strip()


BannerHandler = Callable[[Conn, bytes, ProbeTarget], Awaitable["Identified | None"]]
ClientProbe = Callable[[Conn, ProbeTarget], Awaitable["Identified | None"]]


async def with_conn(target: ProbeTarget, probe: ClientProbe, tls: ssl.SSLContext | None = None
                     ) -> Identified | None:
    try:
        conn = await Conn.open(target, tls)
    except ProbeError:
        return None
    try:
        return await probe(conn, target)
    except ProbeError:
        return None
    finally:
        await conn.close()


@dataclass(frozen=True)
class Probe:
    """A client-first probe: `run` returns (identified, tls summary when it ran inside TLS)."""

    name: str
    run: Callable[[ProbeTarget], Awaitable[tuple[Identified | None, dict | None]]]


def plain_probe(name: str, probe: ClientProbe) -> Probe:
    async def run(target: ProbeTarget) -> tuple[Identified | None, dict | None]:
        return await with_conn(target, probe), None

    return Probe(name, run)
