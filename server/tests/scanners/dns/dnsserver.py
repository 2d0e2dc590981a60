"""A loopback DNS world for the DNS scanner tests: dnslib servers (UDP + TCP on one random port) answering from
zones written in zone-file text (parsed and, when asked, DNSSEC-signed with dnspython).

The same server is the resolver the scanners are configured with and the authoritative server their NS records
point at (the scanners' `authoritative_port` is set to its port). It implements what the checks rely on: the AA
flag, NXDOMAIN/NODATA with the SOA in the authority section, CNAME chasing across the served zones, wildcards,
DS answered from a delegation table (the parent's side), RRSIGs when the query sets the DO bit, and AXFR over TCP
for zones that allow it (refused over UDP and for every other zone)."""

from __future__ import annotations

import socket
import socketserver
import threading
from dataclasses import dataclass, field
from functools import cached_property

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.RRSIG
import dns.zone
from dnslib import QTYPE, RCODE, RD, RR, DNSLabel
from dnslib.server import BaseResolver, DNSLogger, DNSServer

IN = dns.rdataclass.IN
RRSIG = dns.rdatatype.RRSIG


@dataclass
class Zone:
    zone: dns.zone.Zone
    axfr: bool = False

    @property
    def origin(self) -> dns.name.Name:
        return self.zone.origin

    @cached_property
    def existing(self) -> frozenset[dns.name.Name]:
        """Every name with records plus the empty non-terminals above them (zones are final once served)."""
        out = set()
        for name in self.zone.nodes:
            while name not in out and name.is_subdomain(self.origin):
                out.add(name)
                name = name.parent()
        return frozenset(out)


def _rr(name: dns.name.Name, ttl: int, rdata) -> RR:
    return RR(DNSLabel(name.to_text()), int(rdata.rdtype), 1, ttl, RD(rdata.to_wire()))


@dataclass
class World(BaseResolver):
    zones: list[Zone] = field(default_factory=list)
    ds: dict[dns.name.Name, list] = field(default_factory=dict)  # delegation table: zone -> DS rdatas
    refuse_all: bool = False  # a lame server

    def add(self, origin: str, text: str, *, axfr: bool = False) -> Zone:
        zone = Zone(dns.zone.from_text(text, origin=origin, relativize=False), axfr)
        self.zones.append(zone)
        return zone

    def _zone_for(self, name: dns.name.Name) -> Zone | None:
        matching = [z for z in self.zones if name.is_subdomain(z.origin)]
        return max(matching, key=lambda z: len(z.origin), default=None)

    def resolve(self, request, handler):
        reply = request.reply()
        reply.header.ra = 1
        qname, qtype = dns.name.from_text(str(request.q.qname)), int(request.q.qtype)
        zone = None if self.refuse_all else self._zone_for(qname)
        if zone is None:
            reply.header.rcode = RCODE.REFUSED if self.refuse_all else RCODE.NXDOMAIN
            return reply
        reply.header.aa = 1
        if qtype == QTYPE.AXFR:
            return self._axfr(zone, qname, handler, reply)
        dnssec = any(rr.rtype == QTYPE.OPT and rr.ttl & 0x8000 for rr in request.ar)
        if qtype == QTYPE.DS and qname in self.ds:
            for rdata in self.ds[qname]:
                reply.add_answer(_rr(qname, 300, rdata))
            return reply
        self._answer(zone, qname, qtype, dnssec, reply, depth=0)
        return reply

    def _answer(self, zone: Zone, qname: dns.name.Name, qtype: int, dnssec: bool, reply, depth: int) -> None:
        node = zone.zone.get_node(qname)
        owner = qname
        if qname not in zone.existing:
            node = self._wildcard(zone, qname)
        if node is None and qname not in zone.existing:
            reply.header.rcode = RCODE.NXDOMAIN
            self._authority(zone, reply)
            return
        cname = node.get_rdataset(IN, dns.rdatatype.CNAME) if node else None
        if cname is not None and qtype != QTYPE.CNAME:
            reply.add_answer(_rr(owner, cname.ttl, cname[0]))
            target = cname[0].target
            next_zone = self._zone_for(target)
            if next_zone is None or depth > 8:
                reply.header.rcode = RCODE.NXDOMAIN
                return
            self._answer(next_zone, target, qtype, dnssec, reply, depth + 1)
            return
        found = node.get_rdataset(IN, qtype) if node else None
        if found is None:
            self._authority(zone, reply)
            return
        for rdata in found:
            reply.add_answer(_rr(owner, found.ttl, rdata))
        sigs = node.get_rdataset(IN, RRSIG, qtype) if dnssec else None
        for rdata in sigs or []:
            reply.add_answer(_rr(owner, sigs.ttl, rdata))

    def _wildcard(self, zone: Zone, qname: dns.name.Name):
        """RFC 4592: the wildcard below the closest existing ancestor."""
        ancestor = qname.parent()
        while ancestor != zone.origin and ancestor not in zone.existing:
            ancestor = ancestor.parent()
        return zone.zone.get_node(dns.name.Name(("*",) + ancestor.labels))

    def _authority(self, zone: Zone, reply) -> None:
        soa = zone.zone.get_rdataset(zone.origin, dns.rdatatype.SOA)
        reply.add_auth(_rr(zone.origin, soa.ttl, soa[0]))

    def _axfr(self, zone: Zone, qname: dns.name.Name, handler, reply):
        if not zone.axfr or handler.protocol != "tcp" or qname != zone.origin:
            reply.header.rcode = RCODE.REFUSED
            return reply
        soa = zone.zone.get_rdataset(zone.origin, dns.rdatatype.SOA)
        reply.add_answer(_rr(zone.origin, soa.ttl, soa[0]))
        for name, ttl, rdata in zone.zone.iterate_rdatas():
            if rdata.rdtype != dns.rdatatype.SOA:
                reply.add_answer(_rr(name, ttl, rdata))
        reply.add_answer(_rr(zone.origin, soa.ttl, soa[0]))
        return reply


class _SequentialUDPServer(socketserver.UDPServer):
    """Answers UDP queries in turn on one thread: dnslib's default starts a thread per query, which dominated the
    cost of the discovery tests' thousands of queries."""

    allow_reuse_address = True


class Servers:
    """UDP and TCP servers for `world` on `address`, sharing one port (random unless given)."""

    def __init__(self, world: World, address: str = "127.0.0.1", port: int = 0) -> None:
        logger = DNSLogger("-request,-reply,-truncated,-recv,-send,-error,-data")
        for _attempt in range(20):
            udp = DNSServer(world, address=address, port=port, logger=logger, server=_SequentialUDPServer)
            chosen = udp.server.server_address[1]
            try:
                tcp = DNSServer(world, address=address, port=chosen, tcp=True, logger=logger)
                break
            except OSError:
                udp.server.server_close()
                if port:
                    raise
        self.port = chosen
        self._servers = [udp, tcp]
        for server in self._servers:
            server.server.daemon_threads = True
            threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05},
                             daemon=True).start()

    def close(self) -> None:
        for server in self._servers:
            server.server.shutdown()
            server.server.server_close()


def free_on(address: str, port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind((address, port))
            except OSError:
                return False
    return True
