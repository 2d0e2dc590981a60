"""Client-first loopback peers: HTTP (plain and, with a TLS context, HTTPS), Elasticsearch, Redis without a
password, Memcached, MongoDB without access control, RDP and SMB2. Replies follow the protocol specifications
(RESP, OP_MSG/BSON, [MS-RDPBCGR], [MS-SMB2]); the BSON here is written out by hand, independently of the
scanner's encoder."""

from __future__ import annotations

import json
import struct

HTML = b"<html><head><title>Loopback test page</title></head><body>ok</body></html>"


async def _read_head(reader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


async def http(reader, writer) -> None:
    await _read_head(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nServer: nginx/1.25.3\r\nContent-Type: text/html\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(HTML) + HTML)
    await writer.drain()


async def elasticsearch(reader, writer) -> None:
    await _read_head(reader)
    body = json.dumps({"name": "node-1", "cluster_name": "s4e-test", "cluster_uuid": "x",
                       "version": {"number": "8.13.4", "build_flavor": "default", "lucene_version": "9.10.0"},
                       "tagline": "You Know, for Search"}).encode()
    writer.write(b"HTTP/1.1 200 OK\r\nX-elastic-product: Elasticsearch\r\ncontent-type: application/json\r\n"
                 b"content-length: %d\r\n\r\n" % len(body) + body)
    await writer.drain()


async def redis_no_auth(reader, writer) -> None:
    """RESP: answers PING and INFO like a Redis without requirepass."""
    while True:
        header = await reader.readline()
        if not header.startswith(b"*"):
            return
        args = []
        for _ in range(int(header[1:])):
            size = int((await reader.readline())[1:])
            args.append((await reader.readexactly(size + 2))[:-2].upper())
        if args == [b"PING"]:
            writer.write(b"+PONG\r\n")
        elif args[:1] == [b"INFO"]:
            info = b"# Server\r\nredis_version:6.2.14\r\nredis_mode:standalone\r\nos:Linux 6.1.0 x86_64\r\n"
            writer.write(b"$%d\r\n%s\r\n" % (len(info), info))
        else:
            writer.write(b"-ERR unknown command\r\n")
        await writer.drain()


async def redis_with_password(reader, writer) -> None:
    await reader.readline()
    writer.write(b"-NOAUTH Authentication required.\r\n")
    await writer.drain()
    await reader.read(100)


async def memcached(reader, writer) -> None:
    line = await reader.readline()
    if line == b"version\r\n":
        writer.write(b"VERSION 1.6.21\r\n")
        await writer.drain()
    await reader.read(100)


def _bson(elements: bytes) -> bytes:
    return struct.pack("<i", len(elements) + 5) + elements + b"\x00"


_OK = b"\x01ok\x00" + struct.pack("<d", 1.0)
_REPLIES = {
    b"isMaster": _bson(b"\x08ismaster\x00\x01" + b"\x10maxWireVersion\x00" + struct.pack("<i", 21) + _OK),
    b"buildInfo": _bson(b"\x02version\x00" + struct.pack("<i", 6) + b"7.0.8\x00" + _OK),
    b"listDatabases": _bson(b"\x04databases\x00" + _bson(b"") + _OK),
}


async def mongodb_no_auth(reader, writer) -> None:
    """OP_MSG (opcode 2013) replies to isMaster, buildInfo and listDatabases, as with access control off."""
    while True:
        try:
            head = await reader.readexactly(16)
        except Exception:
            return
        size, request_id, _to, opcode = struct.unpack("<iiii", head)
        body = await reader.readexactly(size - 16)
        command = body[4 + 1 + 4 + 1:].split(b"\x00", 1)[0]  # flags, kind 0, doc length, first element type
        reply = struct.pack("<I", 0) + b"\x00" + _REPLIES.get(command, _bson(_OK))
        writer.write(struct.pack("<iiii", 16 + len(reply), 99, request_id, 2013) + reply)
        await writer.drain()


async def rdp_nla(reader, writer) -> None:
    request = await reader.readexactly(19)
    assert request[:2] == b"\x03\x00" and request[5] == 0xE0
    # TPKT + X.224 Connection Confirm + RDP_NEG_RSP selecting PROTOCOL_HYBRID (CredSSP, i.e. NLA)
    writer.write(b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00" + b"\x02\x00\x08\x00" + struct.pack("<I", 2))
    await writer.drain()
    await reader.read(10)


async def smb2(reader, writer) -> None:
    head = await reader.readexactly(4)
    await reader.readexactly(int.from_bytes(head[1:], "big"))
    header = b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ", 64, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0) + b"\0" * 16
    # NEGOTIATE response: StructureSize 65, SecurityMode signing enabled+required, dialect 3.0.2
    body = struct.pack("<HHH", 65, 0x03, 0x0302) + b"\0" * 58
    message = header + body
    writer.write(struct.pack(">I", len(message)) + message)
    await writer.drain()
    await reader.read(10)
