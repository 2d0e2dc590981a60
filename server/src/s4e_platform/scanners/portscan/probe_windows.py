"""Windows remote access and file sharing: RDP (X.224 connection request with an RDP negotiation request,
[MS-RDPBCGR] 2.2.1.1) and SMB2 (NEGOTIATE, [MS-SMB2] 2.2.3). Both stop after the server's first answer."""

from __future__ import annotations

import os
import struct

from s4e_platform.scanners.portscan.probes import Conn, Identified, ProbeTarget, plain_probe

# TPKT (version 3, length 19) + X.224 CR (LI 14, code 0xE0) + RDP_NEG_REQ asking for TLS | CredSSP
_RDP_REQUEST = b"\x03\x00\x00\x13" + b"\x0e\xe0\x00\x00\x00\x00\x00" + b"\x01\x00\x08\x00\x03\x00\x00\x00"
_RDP_PROTOCOLS = {0: "rdp", 1: "tls", 2: "credssp", 4: "rdstls", 8: "credssp_early_auth"}
_SMB_DIALECTS = (0x0202, 0x0210, 0x0300, 0x0302)


async def rdp(conn: Conn, target: ProbeTarget) -> Identified | None:
    await conn.send(_RDP_REQUEST)
    reply = await conn.recv_until(lambda b: len(b) >= 4 and len(b) >= int.from_bytes(b[2:4], "big"), limit=512)
    if len(reply) < 11 or reply[:2] != b"\x03\x00" or reply[5] != 0xD0:  # TPKT + X.224 Connection Confirm
        return None
    details: dict = {}
    if len(reply) >= 19 and reply[11] == 0x02:  # RDP_NEG_RSP
        selected = struct.unpack("<I", reply[15:19])[0]
        details["security"] = _RDP_PROTOCOLS.get(selected, str(selected))
        details["nla"] = selected in (2, 8)
    elif len(reply) >= 19 and reply[11] == 0x03:  # RDP_NEG_FAILURE: e.g. the server insists on NLA
        details["negotiation_failure"] = struct.unpack("<I", reply[15:19])[0]
    else:  # a server too old to negotiate: classic RDP security only
        details["security"] = "rdp"
        details["nla"] = False
    return Identified("rdp", details=details)


def _smb2_negotiate() -> bytes:
    header = (b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ", 64, 0, 0, 0, 1, 0, 0, 0, 0xFEFF, 0, 0) + b"\0" * 16)
    body = struct.pack("<HHHHI", 36, len(_SMB_DIALECTS), 1, 0, 0) + os.urandom(16) + b"\0" * 8
    body += b"".join(struct.pack("<H", d) for d in _SMB_DIALECTS)
    message = header + body
    return struct.pack(">I", len(message)) + message  # NetBIOS session message header (type 0)


async def smb(conn: Conn, target: ProbeTarget) -> Identified | None:
    await conn.send(_smb2_negotiate())
    reply = await conn.recv_until(lambda b: len(b) >= 4 and len(b) >= 4 + int.from_bytes(b[1:4], "big"),
                                  limit=4096)
    if len(reply) < 4 + 64 + 8 or reply[4:8] not in (b"\xfeSMB", b"\xffSMB"):
        return None
    if reply[4:8] == b"\xffSMB":  # answered in SMB1 only
        return Identified("smb", details={"dialect": "NT LM 0.12", "smb1": True})
    status = struct.unpack("<I", reply[12:16])[0]
    body = reply[4 + 64:]
    details: dict = {"smb1": False}
    if status == 0 and len(body) >= 8:
        security_mode, dialect = struct.unpack("<HH", body[2:6])
        details["dialect"] = f"{dialect >> 8}.{(dialect >> 4) & 0xF}.{dialect & 0xF}"
        details["signing_required"] = bool(security_mode & 0x02)
    return Identified("smb", details=details)


RDP = plain_probe("rdp", rdp)
SMB = plain_probe("smb", smb)
