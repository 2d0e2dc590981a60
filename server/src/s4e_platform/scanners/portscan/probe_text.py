"""Server-first protocols: the banner tells what answers, and a short, harmless exchange tells more.

SSH (identification line), FTP (FEAT, anonymous login attempt), SMTP (EHLO extensions: STARTTLS), POP3 (CAPA:
STLS), IMAP (CAPABILITY: STARTTLS), telnet (IAC option negotiation refused, login prompt read), VNC (security
types: "None" means no password), NATS (INFO document: auth_required). MySQL's handshake is parsed in
probe_data.py.
"""

from __future__ import annotations

import json
import re

from s4e_platform.scanners.portscan import products
from s4e_platform.scanners.portscan.probe_data import mysql_handshake
from s4e_platform.scanners.portscan.probes import Conn, Identified, ProbeError, ProbeTarget, text

FTP_PORTS = frozenset({21, 2121, 990})
SMTP_PORTS = frozenset({25, 465, 587, 2525})
TELNET_PORTS = frozenset({23, 2323})
ANONYMOUS_PASSWORD = b"s4e-scanner@example.invalid"

_FTP_PRODUCTS = [(r"vsFTPd (?P<v>[\d.]+)", "vsftpd"), (r"ProFTPD (?P<v>[\d.]+[a-z]?)", "ProFTPD"),
                 (r"Pure-FTPd", "Pure-FTPd"), (r"FileZilla Server(?: version)? (?P<v>[\d.]+)", "FileZilla Server"),
                 (r"Microsoft FTP Service", "Microsoft FTP Service"), (r"pyftpdlib (?P<v>[\d.]+)", "pyftpdlib")]
_SMTP_PRODUCTS = [(r"Postfix", "Postfix"), (r"Exim (?P<v>[\d.]+)", "Exim"), (r"Sendmail (?P<v>[\d.]+)", "Sendmail"),
                  (r"Microsoft ESMTP MAIL Service", "Microsoft Exchange"), (r"OpenSMTPD", "OpenSMTPD"),
                  (r"Haraka", "Haraka")]
_MAIL_PRODUCTS = [(r"Dovecot", "Dovecot"), (r"Cyrus", "Cyrus IMAP"), (r"Courier", "Courier")]

# telnet: IAC (255) followed by WILL/WONT/DO/DONT (251-254) and an option byte
_IAC, _SB, _SE, _WILL, _WONT, _DO, _DONT = 255, 250, 240, 251, 252, 253, 254


async def classify_banner(conn: Conn, banner: bytes, target: ProbeTarget) -> Identified | None:
    """Identify a service from the first bytes it sent; None when the banner matches nothing we know."""
    if banner.startswith(b"SSH-"):
        return _ssh(banner)
    if banner[:1] == bytes([_IAC]) and len(banner) > 1 and _WILL <= banner[1] <= _DONT:
        return await _telnet(conn, banner)
    found = mysql_handshake(banner)
    if found is not None:
        return found
    if banner.startswith(b"RFB "):
        return await _vnc(conn, banner)
    if banner.startswith(b"+OK"):
        return await _pop3(conn, banner)
    if banner.startswith((b"* OK", b"* PREAUTH")):
        return await _imap(conn, banner)
    if re.match(rb"220[ -]", banner):
        return await _ftp_or_smtp(conn, banner, target)
    if banner.startswith(b"INFO {"):
        return _nats(banner)
    if target.port in TELNET_PORTS:
        return Identified("telnet", banner=text(banner), details={"negotiation": False})
    return None


def _ssh(banner: bytes) -> Identified:
    line = text(banner.split(b"\n", 1)[0], 255)
    proto, _, rest = line[4:].partition("-")
    software, _, comment = rest.partition(" ")
    product, version = products.ssh_software(software)
    details = {"protocol_version": products.printable(proto, 8), "comment": products.printable(comment, 80)}
    return Identified("ssh", product, version, banner=line, details=details)


def _reply_done(buf: bytes) -> bool:
    """An FTP/SMTP reply is complete when its last line is `ddd text` (not `ddd-text`)."""
    if not buf.endswith(b"\n"):
        return False
    last = buf.rstrip(b"\r\n").rsplit(b"\n", 1)[-1].lstrip(b"\r")
    return len(last) >= 3 and last[:3].isdigit() and last[3:4] in (b"", b" ")


async def read_reply(conn: Conn, initial: bytes = b"") -> tuple[int, list[str], bytes]:
    """(code, lines without the code prefix, raw bytes) of one FTP/SMTP reply."""
    raw = initial if _reply_done(initial) else await conn.recv_until(_reply_done, initial=initial)
    lines = [line.rstrip("\r") for line in raw.decode("latin-1").split("\n") if line.strip()]
    if not lines or not re.match(r"[0-9]{3}", lines[-1]):  # ASCII digits only ("²".isdigit() is true)
        raise ProbeError("not an FTP/SMTP reply")
    return int(lines[-1][:3]), [line[4:] for line in lines], raw


async def command(conn: Conn, line: bytes) -> tuple[int, list[str], bytes]:
    await conn.send(line + b"\r\n")
    return await read_reply(conn)


async def _ftp_or_smtp(conn: Conn, banner: bytes, target: ProbeTarget) -> Identified:
    _code, lines, raw = await read_reply(conn, banner)
    greeting = " ".join(lines).lower()
    if "smtp" in greeting or (target.port in SMTP_PORTS and "ftp" not in greeting):
        return await _smtp(conn, raw)
    if "ftp" in greeting or target.port in FTP_PORTS:
        return await _ftp(conn, raw)
    # Neither name nor port says which: an SMTP server accepts EHLO, an FTP server rejects it (5xx).
    code, ehlo_lines, _ = await command(conn, b"EHLO s4e-scanner.invalid")
    if code == 250:
        return await _smtp(conn, raw, (code, ehlo_lines))
    return await _ftp(conn, raw)


async def _smtp(conn: Conn, banner: bytes, ehlo: tuple[int, list[str]] | None = None) -> Identified:
    if ehlo is None:
        code, lines, _ = await command(conn, b"EHLO s4e-scanner.invalid")
    else:
        code, lines = ehlo
    extensions = [products.printable(line, 64).upper() for line in lines[1:]][:32] if code == 250 else []
    starttls = any(ext.split(" ")[0] == "STARTTLS" for ext in extensions)
    await conn.send(b"QUIT\r\n")
    shown = text(banner)
    product, version = products.from_banner(shown, _SMTP_PRODUCTS)
    return Identified("smtp", product, version, banner=shown,
                      details={"esmtp": code == 250, "starttls": starttls, "extensions": extensions})


async def _ftp(conn: Conn, banner: bytes) -> Identified:
    code, lines, _ = await command(conn, b"FEAT")
    features = [products.printable(line, 64).strip().upper() for line in lines[1:-1]][:32] if code == 211 else []
    auth_tls = any(f.startswith(("AUTH TLS", "AUTH SSL")) for f in features)
    anonymous, login_reply = await _anonymous_login(conn)
    await conn.send(b"QUIT\r\n")
    shown = text(banner)
    product, version = products.from_banner(shown, _FTP_PRODUCTS)
    details = {"auth_tls": auth_tls, "features": features, "anonymous_login": anonymous}
    if anonymous:
        details["evidence"] = f"USER anonymous / PASS {ANONYMOUS_PASSWORD.decode()} -> {login_reply}"
    return Identified("ftp", product, version, banner=shown, details=details)


async def _anonymous_login(conn: Conn) -> tuple[bool, str]:
    """USER anonymous (+ PASS): 230 means the server let us in without credentials."""
    code, lines, _ = await command(conn, b"USER anonymous")
    if code == 331:
        code, lines, _ = await command(conn, b"PASS " + ANONYMOUS_PASSWORD)
    return code == 230, products.printable(f"{code} {' '.join(lines)}", 200)


async def _pop3(conn: Conn, banner: bytes) -> Identified:
    await conn.send(b"CAPA\r\n")
    reply = await conn.recv_until(lambda b: b.startswith(b"-ERR") or b"\r\n.\r\n" in b or b.endswith(b"\n.\r\n"))
    capabilities = [products.printable(line, 64).upper() for line in reply.decode("latin-1").splitlines()[1:]
                    if line.strip() not in ("", ".")][:32] if reply.startswith(b"+OK") else []
    await conn.send(b"QUIT\r\n")
    shown = text(banner.split(b"\n", 1)[0])
    product, version = products.from_banner(shown, _MAIL_PRODUCTS)
    return Identified("pop3", product, version, banner=shown,
                      details={"starttls": any(c.split(" ")[0] == "STLS" for c in capabilities),
                               "capabilities": capabilities})


async def _imap(conn: Conn, banner: bytes) -> Identified:
    await conn.send(b"s4e1 CAPABILITY\r\n")
    reply = await conn.recv_until(lambda b: re.search(rb"(^|\n)s4e1 ", b) is not None and b.endswith(b"\n"))
    words = set(banner.decode("latin-1").upper().replace("]", " ").split())
    for line in reply.decode("latin-1").splitlines():
        if line.upper().startswith("* CAPABILITY"):
            words.update(line.upper().split()[2:])
    await conn.send(b"s4e2 LOGOUT\r\n")
    shown = text(banner.split(b"\n", 1)[0])
    product, version = products.from_banner(shown, _MAIL_PRODUCTS)
    return Identified("imap", product, version, banner=shown,
                      details={"starttls": "STARTTLS" in words, "preauth": banner.startswith(b"* PREAUTH")})


async def _telnet(conn: Conn, banner: bytes) -> Identified:
    """Refuse every option the server offers or asks for, then read what it prints (usually a login prompt)."""
    data, shown = banner, b""
    for _ in range(3):
        replies, printable_part = _telnet_parse(data)
        shown += printable_part
        if replies:
            await conn.send(replies)
        if len(shown.strip()) >= 8:
            break
        data = await conn.recv(1.0)
        if not data:
            break
    return Identified("telnet", banner=text(shown) or None, details={"negotiation": True})


def _telnet_parse(data: bytes) -> tuple[bytes, bytes]:
    """(our refusals, the printable bytes) for one chunk of telnet stream."""
    out, shown, i = bytearray(), bytearray(), 0
    while i < len(data):
        byte = data[i]
        if byte != _IAC:
            shown.append(byte)
            i += 1
        elif i + 2 < len(data) and data[i + 1] in (_WILL, _WONT, _DO, _DONT):
            verb, option = data[i + 1], data[i + 2]
            if verb == _DO:
                out += bytes([_IAC, _WONT, option])
            elif verb == _WILL:
                out += bytes([_IAC, _DONT, option])
            i += 3
        elif i + 1 < len(data) and data[i + 1] == _SB:
            end = data.find(bytes([_IAC, _SE]), i + 2)
            i = len(data) if end < 0 else end + 2
        else:
            i += 2
    return bytes(out), bytes(shown)


async def _vnc(conn: Conn, banner: bytes) -> Identified:
    """RFB: echo the server's version, read the security types; type 1 ("None") means no password."""
    line = text(banner.split(b"\n", 1)[0], 32)
    details: dict = {"protocol_version": line[4:]}
    if re.fullmatch(rb"RFB 003\.00[78]\n", banner[:12]):
        await conn.send(banner[:12])
        count = (await conn.recv_exact(1))[0]
        if count:
            types = list(await conn.recv_exact(count))
            details["security_types"] = types
            details["auth_required"] = 1 not in types
            details["evidence"] = f"{line}: security types offered {types} (1 = None, no password)"
    return Identified("vnc", banner=line, details=details)


def _nats(banner: bytes) -> Identified:
    line = banner.split(b"\r\n", 1)[0][5:]
    try:
        info = json.loads(line) if len(line) <= 8192 else {}
    except (ValueError, RecursionError):  # RecursionError: hostile nesting
        info = {}
    info = info if isinstance(info, dict) else {}
    version = products.clean_version(str(info.get("version", "")))
    return Identified("nats", "NATS Server", version, banner=text(banner.split(b"\r\n", 1)[0], 256),
                      details={"auth_required": bool(info.get("auth_required")),
                               "tls_required": bool(info.get("tls_required"))})
