"""Finding identity (scanning.md 6.2): SHA-256 of `v1|asset|scanner|check_id|location_key|discriminator`.

Only stable facts enter the key. Timestamps, bodies, extracted values, severity, title, scan/task ids and
certificate serials never do, so the same issue on the same asset always lands on the same row.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from urllib.parse import parse_qsl, unquote, urlsplit

from s4e_platform.scanners.base import Location

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
_NUMERIC = re.compile(r"^\d+$")
_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE)
_LONG_HEX = re.compile(r"^[0-9a-f]{16,}$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{8}$")
_PURL_VERSION = re.compile(r"@[^?#/]*(?=[?#]|$)")


def _segment(seg: str) -> str:
    """Collapse identifier-like segments so /users/1 and /users/2 are one location (section 5 url_unifier)."""
    raw = unquote(seg)
    if _NUMERIC.match(raw) or _UUID.match(raw) or _LONG_HEX.match(raw) or _DATE.match(raw):
        return "{id}"
    return seg


def unified_path(path: str) -> str:
    """Dot segments resolved, identifier segments collapsed; a trailing slash is kept (it can be another page)."""
    path = path or "/"
    if not path.startswith("/"):
        path = "/" + path
    trailing = path.endswith("/") and path != "/"
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    segments = [_segment(s) for s in norm.split("/")]
    out = "/".join(segments) or "/"
    return out + "/" if trailing and not out.endswith("/") else out


def url_key(url: str, parameter: str | None = None) -> str:
    """`url:<scheme>://<host>:<port><unified path>[?sorted query keys][#param=<name>]`."""
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:  # a malformed port is still a stable string to key on
        port = 0
    key = f"url:{scheme}://{host}:{port}{unified_path(parts.path)}"
    query_keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    if query_keys:
        key += "?" + "&".join(query_keys)
    if parameter:
        key += f"#param={parameter}"
    return key


def purl_without_version(purl: str) -> str:
    """`pkg:npm/lodash@4.17.20?arch=x` -> `pkg:npm/lodash?arch=x`: a new version of the package is the same place."""
    body = purl.strip()
    head, sep, _ = body.partition("#")
    return _PURL_VERSION.sub("", head)


def location_key(location: Location) -> str:
    """The location part of the fingerprint, by kind of location (6.2)."""
    url = (location.url or "").strip()
    if url.lower().startswith("pkg:"):
        return purl_without_version(url)
    if url:
        return url_key(url, location.parameter)
    protocol = (location.protocol or "").lower()
    if protocol in ("dns", "email"):
        name = (location.host or "").lower().rstrip(".")
        return f"dns:{name}/{(location.parameter or '').upper()}"
    if location.port is not None:
        return f"svc:{protocol or 'tcp'}/{int(location.port)}"
    return "host"


def fingerprint(*, asset_id: str, scanner: str, check_id: str, location: Location, discriminator: str = "") -> str:
    raw = "|".join(("v1", asset_id, scanner, check_id, location_key(location), discriminator or ""))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()
