"""Databases, caches and brokers: what they are, which version, and whether they let a stranger in.

Redis (PING, then INFO server when no password is asked), PostgreSQL (SSLRequest, then a StartupMessage for the
`postgres` user: AuthenticationOk means trust authentication), MySQL (the server's handshake packet), Memcached
(`version`), MongoDB (OP_MSG hello/buildInfo/listDatabases), AMQP (protocol header -> Connection.Start
properties), MQTT (CONNECT without credentials -> CONNACK return code). Every check stops at the first answer
that proves access: nothing is read or written beyond the server's own metadata.
"""

from __future__ import annotations

import re
import struct

from s4e_platform.scanners.portscan import products
from s4e_platform.scanners.portscan.bson import decode_scalars, encode
from s4e_platform.scanners.portscan.probes import (
    Conn,
    Identified,
    Probe,
    ProbeError,
    ProbeTarget,
    plain_probe,
    text,
    with_conn,
)

_REDIS_PING = b"*1\r\n$4\r\nPING\r\n"
_REDIS_INFO = b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n"
_REDIS_KEEP = ("redis_version", "redis_mode", "os", "arch_bits", "tcp_port")
_PG_SSL_REQUEST = struct.pack("!II", 8, 80877103)
_PG_AUTH = {0: "trust", 2: "kerberos", 3: "password", 5: "md5", 7: "gss", 9: "sspi", 10: "sasl"}
_MYSQL_SSL = 0x0800


async def redis_ping(conn: Conn, target: ProbeTarget) -> Identified | None:
    await conn.send(_REDIS_PING)
    reply = await conn.recv_until(lambda b: b.endswith(b"\r\n"), limit=512)
    details: dict = {"auth_required": True, "protected_mode": False}
    if reply == b"+PONG\r\n":
        details["auth_required"] = False
    elif reply.startswith(b"-DENIED"):
        details["protected_mode"] = True
    elif not reply.startswith((b"-NOAUTH", b"-WRONGPASS", b"-ERR operation not permitted")):
        return None
    version = None
    if not details["auth_required"]:
        await conn.send(_REDIS_INFO)
        info = await _redis_bulk(conn)
        fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
        version = products.clean_version(fields.get("redis_version"))
        kept = {k: products.printable(fields[k], 64) for k in _REDIS_KEEP if k in fields}
        details["info"] = kept
        details["evidence"] = "PING -> +PONG\nINFO server -> " + "\n".join(f"{k}:{v}" for k, v in kept.items())
    return Identified("redis", "Redis", version, banner=text(reply, 128), details=details)


async def _redis_bulk(conn: Conn) -> str:
    head = await conn.recv_until(lambda b: b"\r\n" in b, limit=64)
    match = re.match(rb"\$(\d{1,6})\r\n", head)
    if not match:
        return ""
    size = min(int(match.group(1)), 32768)
    body = await conn.recv_until(lambda b: len(b) >= match.end() + size, limit=match.end() + size, initial=head)
    return body[match.end():].decode("utf-8", "replace")


async def _pg_ssl(conn: Conn, target: ProbeTarget) -> Identified | None:
    await conn.send(_PG_SSL_REQUEST)
    answer = await conn.recv_exact(1)
    if answer not in (b"S", b"N"):
        return None
    return Identified("postgresql", "PostgreSQL", details={"ssl": answer == b"S"})


async def _pg_startup(conn: Conn, target: ProbeTarget) -> Identified | None:
    params = b"user\0postgres\0database\0postgres\0application_name\0s4e-scanner\0\0"
    await conn.send(struct.pack("!II", 8 + len(params), 196608) + params)
    details: dict = {}
    version = None
    for _ in range(64):
        kind, body = await _pg_message(conn)
        if kind == b"R":
            code = struct.unpack("!I", body[:4])[0] if len(body) >= 4 else -1
            details["auth"] = _PG_AUTH.get(code, str(code))
            if code == 10:
                details["sasl_mechanisms"] = [products.printable(m.decode("latin-1"), 32)
                                              for m in body[4:].split(b"\0") if m][:8]
            if code != 0:
                break
        elif kind == b"S":
            name, _, value = body.partition(b"\0")
            if name == b"server_version":
                version = products.clean_version(value.split(b"\0", 1)[0].decode("latin-1"))
        elif kind == b"E":
            fields = {f[:1]: f[1:].decode("utf-8", "replace") for f in body.split(b"\0") if f}
            details["error_code"] = products.printable(fields.get(b"C", ""), 8)
            details["error"] = products.printable(fields.get(b"M", ""), 200)
            break
        elif kind == b"Z":
            break
    if details.get("auth") == "trust":
        details["evidence"] = "StartupMessage user=postgres (no password) -> AuthenticationOk"
        await conn.send(b"X\0\0\0\x04")  # Terminate
    if not details:
        return None
    return Identified("postgresql", "PostgreSQL", version, details=details)


async def _pg_message(conn: Conn) -> tuple[bytes, bytes]:
    head = await conn.recv_exact(5)
    size = struct.unpack("!I", head[1:])[0]
    if head[:1] not in b"RSEZKNA" or not 4 <= size <= 16384:
        raise ProbeError("not a PostgreSQL message")
    return head[:1], await conn.recv_exact(size - 4) if size > 4 else b""


async def _postgres(target: ProbeTarget) -> tuple[Identified | None, dict | None]:
    found = await with_conn(target, _pg_ssl)
    if found is None:
        return None, None
    # After an `S` the server waits for a TLS handshake, so the login check uses a fresh plain connection.
    login = await with_conn(target, _pg_startup)
    if login is not None:
        found.version = login.version
        found.details.update(login.details)
    return found, None


def mysql_handshake(data: bytes) -> Identified | None:
    """A MySQL/MariaDB server greets first: a protocol-10 handshake, or an error packet (host not allowed)."""
    if len(data) < 8 or data[3] != 0:
        return None
    size = int.from_bytes(data[:3], "little")
    payload = data[4:4 + size]
    if not 4 <= size <= 16384 or len(payload) < min(size, 8):
        return None
    if payload[0] == 0xFF and len(payload) >= 3:
        code = int.from_bytes(payload[1:3], "little")
        message = payload[3:].lstrip(b"#")
        if not 1000 <= code <= 9999:
            return None
        return Identified("mysql", "MySQL", details={"error_code": code, "error": text(message, 200)})
    end = payload.find(b"\0", 1, 80)
    if payload[0] != 0x0A or end < 0:
        return None
    raw = payload[1:end].decode("latin-1")
    if not re.fullmatch(r"[0-9][0-9A-Za-z.+~_-]*", raw):
        return None
    product = "MariaDB" if "mariadb" in raw.lower() else "MySQL"
    # MariaDB prefixes "5.5.5-" for old clients; distributions append build tags ("-0+deb12u1")
    numeric = re.match(r"\d+(?:\.\d+)*", raw[6:] if raw.startswith("5.5.5-") else raw)
    version = numeric.group(0) if numeric else None
    details: dict = {"server_version": raw}
    caps_at = end + 1 + 4 + 8 + 1
    if len(payload) >= caps_at + 2:
        details["ssl"] = bool(int.from_bytes(payload[caps_at:caps_at + 2], "little") & _MYSQL_SSL)
    return Identified("mysql", product, version, banner=raw, details=details)


async def memcached_version(conn: Conn, target: ProbeTarget) -> Identified | None:
    await conn.send(b"version\r\n")
    reply = await conn.recv_until(lambda b: b.endswith(b"\r\n"), limit=256)
    match = re.fullmatch(rb"VERSION (\S{1,40})\r\n", reply)
    if not match:
        return None
    return Identified("memcached", "Memcached", products.clean_version(match.group(1).decode("latin-1")),
                      banner=text(reply), details={"auth_required": False, "evidence": "version -> " + text(reply)})


async def _mongo_command(conn: Conn, request_id: int, document: dict) -> dict:
    body = struct.pack("<I", 0) + b"\0" + encode(document)
    await conn.send(struct.pack("<iiii", 16 + len(body), request_id, 0, 2013) + body)
    head = await conn.recv_exact(16)
    size, _req, response_to, opcode = struct.unpack("<iiii", head)
    if opcode != 2013 or response_to != request_id or not 21 <= size <= 1 << 20:
        raise ProbeError("not a MongoDB reply")
    payload = await conn.recv_exact(size - 16)
    return decode_scalars(payload[5:])


async def mongodb(conn: Conn, target: ProbeTarget) -> Identified | None:
    # isMaster rather than hello: every server speaking OP_MSG (3.6+) still answers it
    hello = await _mongo_command(conn, 1, {"isMaster": 1, "$db": "admin"})
    if "maxWireVersion" not in hello:
        return None
    build = await _mongo_command(conn, 2, {"buildInfo": 1, "$db": "admin"})
    listing = await _mongo_command(conn, 3, {"listDatabases": 1, "nameOnly": True, "$db": "admin"})
    authenticated_needed = listing.get("ok") != 1.0
    details = {"auth_required": authenticated_needed, "max_wire_version": hello.get("maxWireVersion")}
    if not authenticated_needed:
        details["evidence"] = "listDatabases (nameOnly) answered ok:1 without credentials"
    return Identified("mongodb", "MongoDB", products.clean_version(str(build.get("version", ""))),
                      details=details)


async def amqp(conn: Conn, target: ProbeTarget) -> Identified | None:
    await conn.send(b"AMQP\x00\x00\x09\x01")
    reply = await conn.recv_until(lambda b: len(b) >= 7 and len(b) >= 8 + int.from_bytes(b[3:7], "big"),
                                  limit=8192)
    if reply.startswith(b"AMQP"):
        return Identified("amqp", details={"protocol_mismatch": text(reply[:8])})
    if not reply.startswith(b"\x01\x00\x00") or reply[7:11] != b"\x00\x0a\x00\x0a":  # Connection.Start
        return None
    product = _amqp_property(reply, b"product")
    version = products.clean_version(_amqp_property(reply, b"version"))
    return Identified("amqp", "RabbitMQ" if product == "RabbitMQ" else product or None, version,
                      details={"platform": _amqp_property(reply, b"platform")})


def _amqp_property(frame: bytes, key: bytes) -> str:
    match = re.search(re.escape(bytes([len(key)]) + key) + rb"S(.{4})", frame, re.S)
    if not match:
        return ""
    size = min(int.from_bytes(match.group(1), "big"), 128)
    return products.printable(frame[match.end():match.end() + size].decode("utf-8", "replace"), 128)


async def mqtt(conn: Conn, target: ProbeTarget) -> Identified | None:
    client_id = b"s4e-scanner"
    variable = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(client_id).to_bytes(2, "big") + client_id
    await conn.send(b"\x10" + bytes([len(variable)]) + variable)
    reply = await conn.recv_exact(4)
    if reply[:2] != b"\x20\x02":
        return None
    code = reply[3]
    details: dict = {"auth_required": code != 0, "connack_code": code}
    if code == 0:
        details["evidence"] = "CONNECT without user name or password -> CONNACK 0 (accepted)"
        await conn.send(b"\xe0\x00")  # DISCONNECT
    return Identified("mqtt", details=details)


REDIS = plain_probe("redis", redis_ping)
POSTGRESQL = Probe("postgresql", _postgres)
MEMCACHED = plain_probe("memcached", memcached_version)
MONGODB = plain_probe("mongodb", mongodb)
AMQP = plain_probe("amqp", amqp)
MQTT = plain_probe("mqtt", mqtt)
