"""Canonical asset names (api.md 3.1) and network zone classification."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

import idna

ASSET_TYPES = ("domain", "ip", "network", "url")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class InvalidName(ValueError):
    pass


def normalize_domain(value: str) -> str:
    name = value.strip().rstrip(".")
    if not name or len(name) > 253:
        raise InvalidName("domain must be 1-253 characters")
    if any(c.isspace() for c in name) or "/" in name or ":" in name or "@" in name:
        raise InvalidName("domain contains characters that are not allowed")
    # Only dotted digits can be an IPv4 address (IPv6 has ':', refused above): parsing every name would
    # raise and catch a ValueError per row of a bulk import.
    if name.replace(".", "").isdigit():
        try:
            ipaddress.ip_address(name)
        except ValueError:
            pass
        else:
            raise InvalidName("an IP address is an asset of type ip, not domain")
    labels = name.split(".")
    out = []
    for label in labels:
        if label.isascii():
            label = label.lower()
        else:
            try:
                label = idna.encode(label, uts46=True).decode()
            except idna.IDNAError as exc:
                raise InvalidName(f"invalid internationalised label: {exc}") from None
        if label == "*" and not out:
            raise InvalidName("wildcard domains are not assets; add the parent domain")
        if not _LABEL.match(label):
            raise InvalidName(f"invalid domain label {label!r}")
        out.append(label)
    result = ".".join(out)
    if len(result) > 253:
        raise InvalidName("domain longer than 253 characters")
    return result


def normalize_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise InvalidName("not a valid IPv4 or IPv6 address") from None


def normalize_network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=True))
    except ValueError as exc:
        if "host bits set" in str(exc):
            raise InvalidName("network has host bits set; use its canonical CIDR") from None
        raise InvalidName("not a valid CIDR network") from None


def normalize_url(value: str) -> str:
    raw = value.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise InvalidName("not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidName("URL scheme must be http or https")
    if parts.username or parts.password:
        raise InvalidName("URL must not contain credentials")
    host = parts.hostname or ""
    if not host:
        raise InvalidName("URL needs a host")
    try:
        ip = ipaddress.ip_address(host)
        host_out = f"[{ip}]" if ip.version == 6 else str(ip)
    except ValueError:
        host_out = normalize_domain(host)
    netloc = host_out
    if port is not None and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc = f"{host_out}:{port}"
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def normalize(asset_type: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidName("name is required")
    if len(value) > 2048:
        raise InvalidName("name longer than 2048 characters")
    return {"domain": normalize_domain, "ip": normalize_ip, "network": normalize_network,
            "url": normalize_url}[asset_type](value)


def url_host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host


def is_internal_address(addr: ipaddress._BaseAddress) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return bool(addr.is_private or addr.is_loopback or addr.is_link_local or
                (addr.version == 4 and addr in _CGNAT))


def network_zone(asset_type: str, name: str, resolved: list[str] | None = None) -> str:
    """internal when every known address is private, loopback, link-local or CGNAT (api.md 3.1)."""
    addrs: list = []
    if asset_type == "ip":
        addrs = [ipaddress.ip_address(name)]
    elif asset_type == "network":
        net = ipaddress.ip_network(name)
        addrs = [net.network_address, net.broadcast_address]
    elif asset_type == "url":
        host = url_host(name)
        try:
            addrs = [ipaddress.ip_address(host)]
        except ValueError:
            addrs = []
    if resolved:
        addrs = [ipaddress.ip_address(a) for a in resolved]
    if addrs and all(is_internal_address(a) for a in addrs):
        return "internal"
    return "external"
