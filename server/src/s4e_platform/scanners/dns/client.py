"""DNS access for the DNS scanners: recursive lookups through the configured resolvers, and direct queries to a
zone's authoritative servers (AXFR, DNSSEC records, lame-delegation checks), all with dnspython's asyncio API.

Resolvers are configuration, never scan input: `S4E_DNS_NAMESERVERS` (`ip[:port]` list; the system resolver
otherwise). Direct queries go to addresses learnt from the target's own DNS data, so they pass the scan route's
address policy first (a zone whose NS points at 10.0.0.5 does not get the platform to probe 10.0.0.5).
`authoritative_port`, `http_port` and `tls_port` exist so tests can put all of it on loopback ports.
"""

from __future__ import annotations

import asyncio
import ipaddress
import struct
from dataclasses import dataclass, field
from typing import Literal

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset

from s4e_platform.config import get_settings
from s4e_platform.scanners.base import ScanContext

MAX_AXFR_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class DnsConfig:
    nameservers: tuple[tuple[str, int], ...] = ()  # recursive resolvers; empty: the system's
    authoritative_port: int = 53
    http_port: int = 80
    tls_port: int = 443
    timeout: float = 3.0  # one try
    lifetime: float = 6.0  # one lookup, retries included

    @classmethod
    def from_settings(cls) -> DnsConfig:
        return cls(nameservers=parse_nameservers(get_settings().dns_nameservers))


def parse_nameservers(text: str) -> tuple[tuple[str, int], ...]:
    """`1.1.1.1, 127.0.0.1:5353, [::1]:5353, ::1` -> ((address, port), ...). Raises ValueError."""
    out = []
    for entry in (e.strip() for e in (text or "").split(",") if e.strip()):
        if entry.startswith("["):
            address, _, rest = entry[1:].partition("]")
            port = rest.removeprefix(":") or "53"
        elif entry.count(":") == 1:
            address, _, port = entry.partition(":")
        else:
            address, port = entry, "53"
        ipaddress.ip_address(address)
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"invalid port in nameserver {entry!r}")
        out.append((address, int(port)))
    return tuple(out)


@dataclass
class Lookup:
    """One recursive lookup. `status`: ok, nxdomain, nodata (the name exists, not this type), error."""

    name: str
    rdtype: str
    status: Literal["ok", "nxdomain", "nodata", "error"]
    records: list[str] = field(default_factory=list)
    rrset: dns.rrset.RRset | None = None
    canonical: str | None = None  # where a CNAME chain ended, when it left `name`
    error: str | None = None

    @property
    def exists(self) -> bool:
        return self.status in ("ok", "nodata")


class DirectQueryError(Exception):
    """An authoritative server did not answer usefully (timeout, refused, not allowed by the scan route)."""


def text_name(name: dns.name.Name | str) -> str:
    return str(name).rstrip(".").lower()


class Dns:
    def __init__(self, config: DnsConfig, ctx: ScanContext) -> None:
        self.config = config
        self.ctx = ctx
        self.resolver = dns.asyncresolver.Resolver(configure=not config.nameservers)
        if config.nameservers:
            self.resolver.nameservers = [dns.nameserver.Do53Nameserver(a, p) for a, p in config.nameservers]
        self.resolver.timeout, self.resolver.lifetime = config.timeout, config.lifetime
        self.resolver.cache = dns.resolver.Cache()
        self.queried: set[str] = set()  # "name/TYPE" for coverage
        self.errors = 0

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        self.queried.add(f"{name}/{rdtype}")
        try:
            answer = await self.resolver.resolve(name, rdtype, search=False)
        except dns.resolver.NXDOMAIN as exc:
            canonical = text_name(exc.canonical_name)
            return Lookup(name, rdtype, "nxdomain", canonical=canonical if canonical != name else None)
        except dns.resolver.NoAnswer as exc:
            response = exc.kwargs.get("response")
            canonical = text_name(response.canonical_name()) if response is not None else name
            return Lookup(name, rdtype, "nodata", canonical=canonical if canonical != name else None)
        except (dns.exception.DNSException, OSError, ValueError) as exc:
            self.errors += 1
            return Lookup(name, rdtype, "error", error=str(exc) or type(exc).__name__)
        canonical = text_name(answer.canonical_name)
        return Lookup(name, rdtype, "ok", [r.to_text() for r in answer.rrset], answer.rrset,
                      canonical if canonical != name else None)

    async def addresses(self, name: str, *, both: bool = True) -> tuple[list[str], Lookup]:
        """A and AAAA addresses of `name`; the A lookup tells whether the name exists at all. With `both=False`
        AAAA is asked only when the name has no A record (enough to know the name is in use)."""
        first = await self.lookup(name, "A")
        if first.status in ("nxdomain", "error") or (first.records and not both):
            return first.records, first
        second = await self.lookup(name, "AAAA")
        return first.records + second.records, first

    def allowed(self, address: str) -> bool:
        try:
            return self.ctx.address_allowed(ipaddress.ip_address(address))
        except ValueError:
            return False

    async def direct(self, address: str, qname: str, rdtype: str, *, dnssec: bool = False) -> dns.message.Message:
        """One non-recursive query to an authoritative server (UDP, TCP when truncated)."""
        if not self.allowed(address):
            raise DirectQueryError(f"{address} is not allowed by this scan route")
        query = dns.message.make_query(qname, rdtype, want_dnssec=dnssec, use_edns=0, payload=1232)
        query.flags &= ~dns.flags.RD
        try:
            response, _tcp = await dns.asyncquery.udp_with_fallback(
                query, address, timeout=self.config.timeout, port=self.config.authoritative_port)
        except (dns.exception.DNSException, OSError, ValueError) as exc:
            raise DirectQueryError(str(exc) or type(exc).__name__) from None
        return response

    async def axfr(self, address: str, zone: str, max_records: int = 1000) -> list[dns.rrset.RRset] | None:
        """Try a zone transfer over TCP. Returns the records received (at most `max_records`) when the server
        transfers the zone, None when it refuses. Raises DirectQueryError when it cannot be asked."""
        if not self.allowed(address):
            raise DirectQueryError(f"{address} is not allowed by this scan route")
        try:
            async with asyncio.timeout(self.config.lifetime * 2):
                return await self._axfr(address, zone, max_records)
        except TimeoutError:
            raise DirectQueryError("zone transfer timed out") from None
        except (dns.exception.DNSException, OSError, ValueError, struct.error) as exc:
            raise DirectQueryError(str(exc) or type(exc).__name__) from None

    async def _axfr(self, address: str, zone: str, max_records: int) -> list[dns.rrset.RRset] | None:
        """Our own reader (rather than dns.query.xfr) so a hostile server cannot stream an endless transfer into
        memory: we stop at the closing SOA, `max_records`, or 4 MiB."""
        query = dns.message.make_query(zone, dns.rdatatype.AXFR)
        wire = query.to_wire()
        reader, writer = await asyncio.open_connection(address, self.config.authoritative_port)
        try:
            writer.write(struct.pack("!H", len(wire)) + wire)
            await writer.drain()
            records: list[dns.rrset.RRset] = []
            received = 0
            while len(records) < max_records and received < MAX_AXFR_BYTES:
                try:
                    (length,) = struct.unpack("!H", await reader.readexactly(2))
                    wire = await reader.readexactly(length)
                except asyncio.IncompleteReadError:
                    return records or None  # closed: a refusal, or the end of what it was willing to send
                message = dns.message.from_wire(wire, one_rr_per_rrset=True, xfr=True)
                received += length + 2
                if message.rcode() != dns.rcode.NOERROR or (not records and not message.answer):
                    return None
                if not records and message.answer[0].rdtype != dns.rdatatype.SOA:
                    return None
                for rrset in message.answer:
                    closing = bool(records) and rrset.rdtype == dns.rdatatype.SOA
                    records.append(rrset)
                    if closing:
                        return records[:max_records]
            return records[:max_records]
        finally:
            writer.close()
