"""Raw TLS ClientHello probes: which protocol versions and cipher suites a server accepts.

OpenSSL 3 (what Python's `ssl` links against) cannot offer SSL 3.0, RC4, DES, 3DES or EXPORT suites any more, so a
handshake-based scan would be blind to exactly the weaknesses it looks for. A probe here sends a hand-built
ClientHello for one version with a chosen list of suites and reads only the server's first flight: the ServerHello
(selected version and suite), an alert, or a closed connection. No key exchange is completed, which also makes each
probe one round trip.

For TLS 1.0-1.2 the Certificate message follows the ServerHello in cleartext; `want_certificates` collects it, so
certificates can be read from servers whose only suites OpenSSL cannot negotiate.
"""

from __future__ import annotations

import asyncio
import os
import struct
from dataclasses import dataclass, field

VERSIONS: dict[str, int] = {"SSLv3": 0x0300, "TLSv1.0": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303,
                            "TLSv1.3": 0x0304}
VERSION_NAMES = {code: name for name, code in VERSIONS.items()}

_HANDSHAKE, _ALERT = 22, 21
_SERVER_HELLO, _CERTIFICATE, _SERVER_HELLO_DONE = 2, 11, 14
_RENEGOTIATION_SCSV = 0x00FF
# RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello with this random; it still names the chosen suite.
_HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")
_GROUPS = (0x001D, 0x0017, 0x0018, 0x0019, 0x001E, 0x0016, 0x0015, 0x0100, 0x0101, 0x0102)
_SIGNATURE_ALGORITHMS = (0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0807, 0x0808,
                         0x0402, 0x0201, 0x0203, 0x0202)
_MAX_RECORD = 18432  # 2^14 plus the largest expansion a record may carry
_MAX_FLIGHT = 256 * 1024  # certificate chains beyond this are not worth reading


@dataclass
class HelloAnswer:
    """What the server answered. `status`: accepted (a ServerHello for the version offered), rejected (alert,
    close, or a different version), not_tls (bytes that are no TLS record), error (timeout, unreachable)."""

    status: str
    version: str | None = None
    suite: int | None = None
    alert: int | None = None
    certificates: list[bytes] = field(default_factory=list)
    detail: str = ""


def _vector(data: bytes, length_bytes: int) -> bytes:
    return len(data).to_bytes(length_bytes, "big") + data


def _extension(kind: int, body: bytes) -> bytes:
    return struct.pack("!HH", kind, len(body)) + body


def _u16_list(values: tuple[int, ...] | list[int]) -> bytes:
    return b"".join(struct.pack("!H", v) for v in values)


def _extensions(version: int, server_name: str | None) -> bytes:
    out = b""
    if server_name:
        host = server_name.encode("ascii")
        out += _extension(0, _vector(b"\x00" + _vector(host, 2), 2))
    out += _extension(10, _vector(_u16_list(_GROUPS), 2))
    out += _extension(11, _vector(b"\x00", 1))
    out += _extension(13, _vector(_u16_list(_SIGNATURE_ALGORITHMS), 2))
    out += _extension(23, b"")  # extended master secret
    if version >= VERSIONS["TLSv1.3"]:
        out += _extension(43, _vector(_u16_list([version]), 1))
        out += _extension(45, _vector(b"\x01", 1))  # psk_dhe_ke: required by some servers even without a PSK
        # An x25519 share of random bytes: the server picks its suite before it would ever use the share.
        out += _extension(51, _vector(struct.pack("!HH", 0x001D, 32) + os.urandom(32), 2))
    return out


def client_hello(version: str, suites: list[int], server_name: str | None = None) -> bytes:
    """One TLS record carrying a ClientHello for `version` offering `suites` (in that order)."""
    code = VERSIONS[version]
    legacy_version = min(code, VERSIONS["TLSv1.2"])
    offered = list(suites) + ([_RENEGOTIATION_SCSV] if code < VERSIONS["TLSv1.3"] else [])
    body = struct.pack("!H", legacy_version) + os.urandom(32)
    body += _vector(os.urandom(32) if code >= VERSIONS["TLSv1.3"] else b"", 1)
    body += _vector(_u16_list(offered), 2) + _vector(b"\x00", 1)
    if code > VERSIONS["SSLv3"]:  # SSL 3.0 servers may choke on extensions
        extensions = _extensions(code, server_name)
        # RFC 7685 padding: some load balancers hang on hellos of 256-511 bytes.
        size = 4 + len(body) + 2 + len(extensions)
        if 256 <= size < 512:
            extensions += _extension(21, b"\x00" * max(0, 512 - size - 4))
        body += _vector(extensions, 2)
    handshake = bytes([1]) + _vector(body, 3)
    record_version = VERSIONS["SSLv3"] if code == VERSIONS["SSLv3"] else VERSIONS["TLSv1.0"]
    return struct.pack("!BHH", _HANDSHAKE, record_version, len(handshake)) + handshake


def _parse_server_hello(body: bytes) -> tuple[int, int, bool]:
    """(negotiated version, suite, is HelloRetryRequest). Raises ValueError on a malformed message."""
    if len(body) < 38:
        raise ValueError("short ServerHello")
    version = struct.unpack_from("!H", body, 0)[0]
    random = body[2:34]
    sid_len = body[34]
    pos = 35 + sid_len
    if len(body) < pos + 3:
        raise ValueError("short ServerHello")
    suite = struct.unpack_from("!H", body, pos)[0]
    pos += 3  # suite and compression method
    if len(body) >= pos + 2:
        ext_end = pos + 2 + struct.unpack_from("!H", body, pos)[0]
        pos += 2
        while pos + 4 <= min(ext_end, len(body)):
            kind, length = struct.unpack_from("!HH", body, pos)
            data = body[pos + 4:pos + 4 + length]
            if kind == 43 and len(data) == 2:  # supported_versions carries the real TLS 1.3 version
                version = struct.unpack("!H", data)[0]
            pos += 4 + length
    return version, suite, random == _HRR_RANDOM


def _parse_certificates(body: bytes) -> list[bytes]:
    """TLS 1.0-1.2 Certificate message: a 3-byte-length list of 3-byte-length DER certificates."""
    if len(body) < 3:
        return []
    end = min(len(body), 3 + int.from_bytes(body[:3], "big"))
    pos, out = 3, []
    while pos + 3 <= end:
        length = int.from_bytes(body[pos:pos + 3], "big")
        out.append(body[pos + 3:pos + 3 + length])
        pos += 3 + length
    return out


class _Flight:
    """Reads records and yields handshake messages, reassembling messages split over records."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.buffer = b""
        self.read = 0

    async def next(self) -> tuple[int, bytes]:
        """(handshake type, body); (-1, alert bytes) for an alert. Raises ValueError for non-TLS bytes."""
        while True:
            if len(self.buffer) >= 4:
                length = int.from_bytes(self.buffer[1:4], "big")
                if len(self.buffer) >= 4 + length:
                    kind, body = self.buffer[0], self.buffer[4:4 + length]
                    self.buffer = self.buffer[4 + length:]
                    return kind, body
            header = await self.reader.readexactly(5)
            content_type, major, length = header[0], header[1], struct.unpack_from("!H", header, 3)[0]
            if content_type not in (_HANDSHAKE, _ALERT) or major != 3 or length > _MAX_RECORD:
                raise ValueError(f"not a TLS record (first bytes {header[:5]!r})")
            self.read += 5 + length
            if self.read > _MAX_FLIGHT:
                raise ValueError("server flight too large")
            payload = await self.reader.readexactly(length)
            if content_type == _ALERT:
                return -1, payload
            self.buffer += payload


async def _exchange(reader: asyncio.StreamReader, version: str, want_certificates: bool) -> HelloAnswer:
    flight = _Flight(reader)
    answer: HelloAnswer | None = None
    while True:
        try:
            kind, body = await flight.next()
        except asyncio.IncompleteReadError:
            if answer is not None:  # closed after the ServerHello: the decision stands, certificates unknown
                return answer
            raise
        if kind == -1:
            if answer is not None:  # an alert after ServerHello: the version/suite decision stands
                return answer
            return HelloAnswer("rejected", alert=body[1] if len(body) > 1 else None, detail="alert")
        if answer is None:
            if kind != _SERVER_HELLO:
                raise ValueError(f"expected ServerHello, got handshake type {kind}")
            code, suite, _retry = _parse_server_hello(body)
            name = VERSION_NAMES.get(code, f"0x{code:04X}")
            if name != version:
                return HelloAnswer("rejected", version=name, suite=suite, detail="server chose another version")
            answer = HelloAnswer("accepted", version=name, suite=suite)
            if not want_certificates or code >= VERSIONS["TLSv1.3"]:
                return answer
        elif kind == _CERTIFICATE:
            answer.certificates = _parse_certificates(body)
            return answer
        elif kind == _SERVER_HELLO_DONE:
            return answer  # anonymous suites send no certificate


async def probe(ip: str, port: int, version: str, suites: list[int], *, server_name: str | None,
                timeout: float, want_certificates: bool = False) -> HelloAnswer:
    """Send one ClientHello and classify the answer. Never raises for network trouble."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(ip, port), timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        return HelloAnswer("error", detail=f"connect failed: {exc.__class__.__name__}")
    try:
        writer.write(client_hello(version, suites, server_name))
        await writer.drain()
        return await asyncio.wait_for(_exchange(reader, version, want_certificates), timeout)
    except asyncio.IncompleteReadError:
        return HelloAnswer("rejected", detail="connection closed")
    except ConnectionError:
        return HelloAnswer("rejected", detail="connection reset")
    except asyncio.TimeoutError:
        return HelloAnswer("error", detail="timed out waiting for the server")
    except ValueError as exc:
        return HelloAnswer("not_tls", detail=str(exc))
    except OSError as exc:
        return HelloAnswer("error", detail=f"{exc.__class__.__name__}: {exc}")
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 1.0)
        except (OSError, asyncio.TimeoutError):
            pass
