"""TLS and HTTP probes.

TLS: a handshake with SNI (the scanned name), certificate checks off (this identifies, the `tls` scanner judges),
recording protocol version, cipher and the leaf certificate's subject, issuer, validity and names; then what runs
inside: HTTP, or a server-first protocol (IMAPS, POP3S, SMTPS, FTPS ...) classified from its banner.
HTTP: one `GET /` (Connection: close); status, `Server` (product/version), title; Elasticsearch is recognised
from its root JSON document, and answering it without credentials is recorded.
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
from datetime import timezone

from cryptography import x509
from cryptography.x509.oid import NameOID

from s4e_platform.scanners.portscan import products
from s4e_platform.scanners.portscan.probe_text import classify_banner
from s4e_platform.scanners.portscan.probes import Conn, Identified, Probe, ProbeError, ProbeTarget, plain_probe, text
from s4e_platform.scanners.portscan.top_ports import service_name

SERVER_FIRST_TLS = frozenset({465, 990, 993, 995, 5223, 6697})
_HEADER_END = b"\r\n\r\n"
_TITLE = re.compile(rb"<title[^>]*>(.{0,512}?)</title>", re.IGNORECASE | re.DOTALL)


def _tls_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:  # identify old servers too; judging their protocol and ciphers is the tls scanner's job
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pass
    return ctx


_CONTEXT = _tls_context()


def tls_summary(conn: Conn, sni: str | None) -> dict:
    obj = conn.tls_object
    if obj is None:
        return {}
    cipher = obj.cipher() or (None, None, None)
    summary: dict = {"version": obj.version(), "cipher": cipher[0], "bits": cipher[2], "sni": sni}
    der = obj.getpeercert(binary_form=True)
    if der:
        summary.update(_certificate(der))
    return summary


def _certificate(der: bytes) -> dict:
    out: dict = {"sha256": hashlib.sha256(der).hexdigest()}
    try:
        cert = x509.load_der_x509_certificate(der)
        out["subject"] = products.printable(cert.subject.rfc4514_string(), 512)
        out["issuer"] = products.printable(cert.issuer.rfc4514_string(), 512)
        common = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        out["subject_cn"] = products.printable(str(common[0].value), 256) if common else None
        out["not_before"] = cert.not_valid_before_utc.astimezone(timezone.utc).isoformat()
        out["not_after"] = cert.not_valid_after_utc.astimezone(timezone.utc).isoformat()
        out["self_signed"] = cert.subject == cert.issuer
        try:
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            out["san"] = [products.printable(n, 256) for n in names.get_values_for_type(x509.DNSName)][:20]
        except x509.ExtensionNotFound:
            out["san"] = []
    except Exception:  # any certificate cryptography cannot parse (duplicate extensions ...)
        out["unparsed"] = True
    return out


def _host_header(target: ProbeTarget, tls: bool) -> str:
    host = target.host or (f"[{target.ip}]" if ":" in target.ip else target.ip)
    return host if target.port == (443 if tls else 80) else f"{host}:{target.port}"


def _response_done(buf: bytes) -> bool:
    end = buf.find(_HEADER_END)
    if end < 0:
        return False
    body = buf[end + 4:]
    match = re.search(rb"\r\ncontent-length:\s*(\d{1,9})", buf[:end], re.IGNORECASE)
    if match:
        return len(body) >= min(int(match.group(1)), 16384)
    return b"</title>" in body.lower() or len(body) >= 16384 or body.endswith(b"0\r\n\r\n")


async def http_get(conn: Conn, target: ProbeTarget) -> Identified | None:
    tls = conn.tls_object is not None
    request = (f"GET / HTTP/1.1\r\nHost: {_host_header(target, tls)}\r\nUser-Agent: {target.config.user_agent}\r\n"
               "Accept: */*\r\nConnection: close\r\n\r\n")
    await conn.send(request.encode("ascii", "replace"))
    raw = await conn.recv_until(_response_done, limit=32768)
    match = re.match(rb"HTTP/(\d\.\d|2) (\d{3})", raw)
    if not match:
        return None
    head, _, body = raw.partition(_HEADER_END)
    headers: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:101]:
        name, sep, value = line.partition(b":")
        if sep:
            headers.setdefault(name.strip().lower().decode("latin-1"), value.strip().decode("latin-1"))
    status = int(match.group(2))
    title = _TITLE.search(body)
    details = {"status_code": status, "server": products.printable(headers.get("server", ""), 200) or None,
               "powered_by": products.printable(headers.get("x-powered-by", ""), 200) or None,
               "title": text(title.group(1), 200) if title else None,
               "location": products.printable(headers.get("location", ""), 512) or None,
               "www_authenticate": products.printable(headers.get("www-authenticate", ""), 200) or None}
    banner = text(head, 1024)
    elastic = _elasticsearch(status, headers, body, details)
    if elastic is not None:
        elastic.banner = banner
        return elastic
    product, version = products.http_server(headers.get("server"))
    return Identified("http", product, version, banner=banner, details=details)


def _elasticsearch(status: int, headers: dict[str, str], body: bytes, details: dict) -> Identified | None:
    if status in (401, 403) and 'realm="security"' in headers.get("www-authenticate", ""):
        return Identified("elasticsearch", "Elasticsearch", details={**details, "auth_required": True})
    if status != 200 or "json" not in headers.get("content-type", ""):
        return None
    try:
        document = json.loads(body[:16384])
    except (ValueError, RecursionError):  # RecursionError: hostile nesting
        return None
    if not isinstance(document, dict) or "cluster_name" not in document:
        return None
    version = document.get("version") if isinstance(document.get("version"), dict) else {}
    if "lucene_version" not in version and document.get("tagline") != "You Know, for Search":
        return None
    number = products.clean_version(str(version.get("number", "")))
    evidence = f"GET / -> {status}, cluster_name={products.printable(str(document['cluster_name']), 64)}"
    return Identified("elasticsearch", "Elasticsearch", number,
                      details={**details, "auth_required": False, "evidence": evidence})


async def _tls(target: ProbeTarget) -> tuple[Identified | None, dict | None]:
    sni = target.host if target.host and not _is_address(target.host) else None
    tls_target = ProbeTarget(target.ip, target.port, sni, target.config)
    order = ("banner", "http") if target.port in SERVER_FIRST_TLS else ("http", "banner")
    summary: dict | None = None
    for step in order:
        try:
            conn = await Conn.open(tls_target, _CONTEXT)
        except ProbeError:
            if summary is None:
                return None, None  # no handshake: not TLS
            break
        try:
            summary = summary or tls_summary(conn, sni)
            if step == "http":
                found = await http_get(conn, tls_target)
            else:
                banner = await conn.recv(target.config.banner_wait)
                found = await classify_banner(conn, banner, tls_target) if banner else None
        except ProbeError:
            found = None
        finally:
            await conn.close()
        if found is not None:
            return found, summary
    return Identified(service_name(target.port) or "unknown"), summary


def _is_address(host: str) -> bool:
    return bool(re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", host))


HTTP = plain_probe("http", http_get)
TLS = Probe("tls", _tls)
