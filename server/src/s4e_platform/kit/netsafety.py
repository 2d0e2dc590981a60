"""Outbound request safety (events.md 2.3): the SSRF guard for webhooks, integrations, remote executors and
scan callbacks.

A URL is checked twice: when it is saved (`check_for_save`) and before every request (`check_for_request`),
because DNS can change between the two. The request must then connect to one of the addresses returned here
(never re-resolve), keeping the original Host header and TLS SNI, so what was validated is what is used.
Operators open on-prem targets with `S4E_OUTBOUND_ALLOWLIST` (CIDRs and host names).
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import idna

from s4e_platform.config import get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# events.md 2.3: nothing but globally routable unicast. `is_global` below also catches documentation and
# benchmark ranges the list leaves implicit.
BLOCKED_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
    "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "fd00:ec2::254/128",
))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
MAX_URL_LENGTH = 2048
# getaddrinfo has no timeout of its own; lookups run on these threads so a caller can stop waiting.
_resolver_pool = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="s4e-dns")


class UnsafeURL(ValueError):
    """The URL may not be requested. `code`: invalid_url, userinfo_not_allowed, insecure_scheme, ssrf_blocked."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ResolutionFailed(Exception):
    """The name did not resolve (NXDOMAIN, no records, resolver error or timeout): fail closed."""


@dataclass(frozen=True)
class Allowlist:
    names: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def parse(cls, entries: list[str]) -> Allowlist:
        names, networks = set(), []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.rstrip(".").lower())
        return cls(frozenset(names), tuple(networks))

    @classmethod
    def current(cls) -> Allowlist:
        return cls.parse(get_settings().allowlist_entries())

    def has_name(self, host: str) -> bool:
        return host.rstrip(".").lower() in self.names

    def has_address(self, addr: IPAddress) -> bool:
        candidates = {addr, unwrap(addr)}
        return any(a.version == n.version and a in n for a in candidates for n in self.networks)


@dataclass(frozen=True)
class OutboundURL:
    url: str
    scheme: str
    host: str  # lower-case ASCII (IDNA), IPv6 without brackets
    port: int
    literal: IPAddress | None  # the host when the URL names an address
    target: str = "/"  # request-target: path and query, non-ASCII percent-encoded

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if self.literal is not None and self.literal.version == 6 else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def sni_hostname(self) -> str | None:
        """TLS server name: the host name; none for an address literal (certificates then name the IP)."""
        return None if self.literal is not None else self.host


def unwrap(addr: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped, IPv4-compatible or NAT64 IPv6 address, else `addr`."""
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return addr.ipv4_mapped
        if addr in _IPV4_COMPATIBLE and int(addr) > 1:
            return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if addr in _NAT64:
            return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return addr


def is_public(addr: IPAddress) -> bool:
    """Globally routable unicast. An IPv6 form wrapping an IPv4 address is judged by that IPv4 address
    (the connection ends up there)."""
    a = unwrap(addr)
    if any(a.version == n.version and a in n for n in BLOCKED_NETWORKS):
        return False
    return not a.is_multicast and a.is_global


def _host(raw: str) -> tuple[str, IPAddress | None]:
    try:
        literal = ipaddress.ip_address(raw)
    except ValueError:
        literal = None
    if literal is not None:
        return str(literal), literal
    name = raw.rstrip(".")
    if not name or len(name) > 253 or any(c in name for c in " %/\\@"):
        raise UnsafeURL("invalid_url", "URL host is not a valid host name")
    try:
        ascii_name = name.lower() if name.isascii() else idna.encode(name, uts46=True).decode()
    except idna.IDNAError:
        raise UnsafeURL("invalid_url", "URL host is not a valid host name") from None
    if any(not label or len(label) > 63 for label in ascii_name.split(".")):
        raise UnsafeURL("invalid_url", "URL host is not a valid host name")
    return ascii_name, None


def parse_url(url: str) -> OutboundURL:
    """Structural checks only: http(s), a host, no credentials, a valid port."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeURL("invalid_url", f"URL must be 1-{MAX_URL_LENGTH} characters")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise UnsafeURL("invalid_url", "URL must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("invalid_url", "URL is malformed or its port is out of range") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL("insecure_scheme", "URL scheme must be https")
    if "@" in parts.netloc:
        raise UnsafeURL("userinfo_not_allowed", "URL must not contain a user name or password")
    if not parts.hostname:
        raise UnsafeURL("invalid_url", "URL needs a host")
    host, literal = _host(parts.hostname)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    target = "".join(c if ord(c) < 0x80 else quote(c) for c in target)
    return OutboundURL(url=url, scheme=scheme, host=host, port=port or (443 if scheme == "https" else 80),
                       literal=literal, target=target)


def resolve(host: str, timeout: float) -> list[IPAddress]:
    """Every A and AAAA address of `host` (deduplicated, resolver order). Raises ResolutionFailed."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    nameservers = get_settings().dns_nameservers
    if nameservers:
        return _resolve_dns(host, nameservers, timeout)
    future = _resolver_pool.submit(socket.getaddrinfo, host, None, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(timeout, 0.001))
    except concurrent.futures.TimeoutError:
        raise ResolutionFailed(f"resolving {host} timed out") from None
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise ResolutionFailed(f"{host} did not resolve: {exc}") from None
    out: list[IPAddress] = []
    for family, *_rest, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        addr = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if addr not in out:
            out.append(addr)
    if not out:
        raise ResolutionFailed(f"{host} has no A or AAAA record")
    return out


def _resolve_dns(host: str, nameservers: str, timeout: float) -> list[IPAddress]:
    """Query the configured resolvers (S4E_DNS_NAMESERVERS, `host[:port]` list) directly."""
    import dns.exception
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=False)
    servers, port = [], 53
    for entry in (e.strip() for e in nameservers.split(",") if e.strip()):
        address, _, maybe_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        servers.append(address or entry)
        port = int(maybe_port) if maybe_port else port
    resolver.nameservers, resolver.port, resolver.lifetime = servers, port, max(timeout, 0.001)
    out: list[IPAddress] = []
    failures = 0
    for rdtype in ("A", "AAAA"):
        try:
            answer = resolver.resolve(host, rdtype)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            failures += 1
            continue
        except dns.exception.DNSException as exc:  # timeouts and SERVFAIL fail closed
            raise ResolutionFailed(f"resolving {host} failed: {exc}") from None
        for record in answer:
            addr = ipaddress.ip_address(record.address)
            if addr not in out:
                out.append(addr)
    if not out:
        raise ResolutionFailed(f"{host} has no A or AAAA record")
    return out


def refused(target: OutboundURL, addresses: list[IPAddress], allowlist: Allowlist) -> list[IPAddress]:
    """Addresses that are neither public nor allowlisted. Any of them refuses the whole host."""
    if allowlist.has_name(target.host):
        return []
    return [a for a in addresses if not is_public(a) and not allowlist.has_address(a)]


def _check_scheme(target: OutboundURL, addresses: list[IPAddress], allowlist: Allowlist) -> None:
    """Plain http only for allowlisted hosts: by name, or with every address inside an allowlisted CIDR."""
    if target.scheme == "https" or allowlist.has_name(target.host):
        return
    if addresses and all(allowlist.has_address(a) for a in addresses):
        return
    raise UnsafeURL("insecure_scheme", "URL must use https (http only for hosts in S4E_OUTBOUND_ALLOWLIST)")


def check_for_save(url: str, *, timeout: float = 5.0) -> OutboundURL:
    """Save-time rule: refuse a disallowed literal address or a name whose resolved addresses include one.
    A name that does not resolve yet is accepted; every request checks it again."""
    target = parse_url(url)
    allowlist = Allowlist.current()
    try:
        addresses = resolve(target.host, timeout)
    except ResolutionFailed:
        addresses = []
    blocked = refused(target, addresses, allowlist)
    if blocked:
        shown = ", ".join(str(a) for a in blocked[:3])
        raise UnsafeURL("ssrf_blocked", f"URL host resolves to a non-public address ({shown}); "
                                        "operators can allow it with S4E_OUTBOUND_ALLOWLIST")
    _check_scheme(target, addresses, allowlist)
    return target


def check_for_request(url: str, *, timeout: float) -> tuple[OutboundURL, list[IPAddress]]:
    """Per-request rule: resolve now and return the addresses the request may connect to.
    Raises UnsafeURL (never retry) or ResolutionFailed (a transient DNS failure)."""
    target = parse_url(url)
    allowlist = Allowlist.current()
    addresses = resolve(target.host, timeout)
    blocked = refused(target, addresses, allowlist)
    if blocked:
        raise UnsafeURL("ssrf_blocked", f"{target.host} resolves to non-public address {blocked[0]}")
    try:
        _check_scheme(target, addresses, allowlist)
    except UnsafeURL as exc:
        raise UnsafeURL("ssrf_blocked", exc.message) from None
    return target, addresses
