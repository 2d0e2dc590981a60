"""Zone-level checks of the `dns` scanner: the zone's name servers (lame, inconsistent), zone transfer (AXFR) on
every authoritative server, and DNSSEC (absent, or present at the parent but not validating)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import dns.asyncresolver
import dns.dnssec
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from s4e_platform.scanners.dns.client import DirectQueryError, Dns, text_name
from s4e_platform.scanners.dns.findings import Collector, candidate

MAX_NS_ADDRESSES = 4  # per name server: enough to judge it without fanning out over a large anycast set
MAX_NAME_SERVERS = 16  # a hostile zone listing thousands of NS records must not multiply the work


@dataclass
class Server:
    name: str
    addresses: list[str] = field(default_factory=list)
    answering: list[str] = field(default_factory=list)  # addresses that answered authoritatively
    serials: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    resolved: bool = True  # False: the lookup of its addresses failed, so it cannot be judged


async def zone_of(client: Dns, name: str) -> str | None:
    try:
        zone = await dns.asyncresolver.zone_for_name(name, resolver=client.resolver, lifetime=client.config.lifetime)
    except (dns.exception.DNSException, OSError, ValueError):
        return None
    return text_name(zone)


async def name_servers(client: Dns, zone: str) -> list[Server] | None:
    found = await client.lookup(zone, "NS")
    if found.status == "error":
        return None
    targets = sorted({text_name(r.target) for r in found.rrset or []})[:MAX_NAME_SERVERS]
    resolved = await asyncio.gather(*(client.addresses(t) for t in targets))
    servers = []
    for target, (addresses, first) in zip(targets, resolved, strict=True):
        server = Server(target, addresses[:MAX_NS_ADDRESSES], resolved=first.status != "error")
        if first.status == "nxdomain" or (server.resolved and not addresses):
            server.problems.append("its name has no address")
        servers.append(server)
    return servers


async def _ask_soa(client: Dns, zone: str, server: Server, address: str, out: Collector) -> bool:
    """One server address: record whether it answers authoritatively. False when it may not be asked."""
    try:
        response = await client.direct(address, zone, "SOA")
    except DirectQueryError as exc:
        if not client.allowed(address):
            out.issue("address_not_allowed", str(exc), f"{server.name} ({address})")
            return False
        server.problems.append(f"{address}: {exc}")
        return True
    soa = response.get_rrset(response.answer, dns.name.from_text(zone), dns.rdataclass.IN, dns.rdatatype.SOA)
    if response.rcode() != dns.rcode.NOERROR or not response.flags & dns.flags.AA or soa is None:
        server.problems.append(f"{address}: answered {dns.rcode.to_text(response.rcode())} without an "
                               "authoritative SOA")
    else:
        server.answering.append(address)
        server.serials[address] = soa[0].serial
    return True


async def check_name_servers(client: Dns, zone: str, servers: list[Server], out: Collector) -> None:
    """Each server must answer the zone's SOA authoritatively; all answering servers must agree on the serial."""
    asked = await asyncio.gather(*(_ask_soa(client, zone, s, a, out) for s in servers for a in s.addresses))
    judged = all(asked) and all(s.resolved for s in servers)
    lame = [s for s in servers if s.problems and not s.answering]
    if lame:
        out.add(candidate("ns_lame", zone, "NS", "\n".join(f"{s.name}: {'; '.join(s.problems)}" for s in lame),
                          extracted=[s.name for s in lame]))
    serials = {f"{s.name} ({a})": serial for s in servers for a, serial in s.serials.items()}
    if len(set(serials.values())) > 1:
        out.add(candidate("ns_inconsistent", zone, "SOA", "\n".join(f"{k}: serial {v}" for k, v in serials.items()),
                          extracted=[str(v) for v in sorted(set(serials.values()))]))
    if judged and servers:
        out.evaluated("ns_lame", "ns_inconsistent")


async def check_axfr(client: Dns, zone: str, servers: list[Server], out: Collector) -> list[dns.rrset.RRset]:
    """AXFR against every address of every server; one finding for the zone naming each server that transfers."""
    pairs = [(server, address) for server in servers for address in server.addresses]
    results = await asyncio.gather(*(_try_axfr(client, zone, address) for _server, address in pairs))
    transferred: list[dns.rrset.RRset] = []
    allowing: list[str] = []
    unasked = 0
    for (server, address), result in zip(pairs, results, strict=True):
        if isinstance(result, DirectQueryError):
            unasked += 1
            out.log.append(f"AXFR {zone} @{server.name} ({address}): {result}")
        elif result is not None:
            allowing.append(f"{server.name} ({address})")
            transferred = transferred or result
    if allowing:
        sample = "\n".join(rrset.to_text() for rrset in transferred[:20])
        names = sorted({text_name(r.name) for r in transferred})
        out.add(candidate("axfr_allowed", zone, "AXFR", f"Transferred by: {', '.join(allowing)}\n{sample}",
                          extracted=allowing, data={"records": len(transferred), "names": names[:200]}))
    if allowing or (servers and not unasked):
        out.evaluated("axfr_allowed")
    elif servers:
        out.issue("axfr_not_tested", "no authoritative server could be asked for a zone transfer", zone)
    return transferred


async def _try_axfr(client: Dns, zone: str, address: str) -> list[dns.rrset.RRset] | DirectQueryError | None:
    try:
        return await client.axfr(address, zone)
    except DirectQueryError as exc:
        return exc


def _rrsets(message: dns.message.Message, zone: str, rdtype: int) -> tuple[dns.rrset.RRset | None, ...]:
    name = dns.name.from_text(zone)
    data = message.get_rrset(message.answer, name, dns.rdataclass.IN, rdtype)
    sigs = message.get_rrset(message.answer, name, dns.rdataclass.IN, dns.rdatatype.RRSIG, rdtype)
    return data, sigs


async def check_dnssec(client: Dns, zone: str, servers: list[Server], out: Collector) -> str | None:
    """Returns the zone's DNSSEC state (`signed`, `unsigned`, `broken`) for the asset metadata."""
    ds = await client.lookup(zone, "DS")
    answering = [a for s in servers for a in s.answering]
    if ds.status == "error" or not answering:
        out.issue("dnssec_not_tested", ds.error or "no authoritative server answered", zone)
        return None
    try:
        keys_msg = await client.direct(answering[0], zone, "DNSKEY", dnssec=True)
        soa_msg = await client.direct(answering[0], zone, "SOA", dnssec=True)
    except DirectQueryError as exc:
        out.issue("dnssec_not_tested", str(exc), zone)
        return None
    keys, key_sigs = _rrsets(keys_msg, zone, dns.rdatatype.DNSKEY)
    out.evaluated("dnssec_missing", "dnssec_broken")
    if ds.status != "ok":
        detail = ("The zone serves DNSKEY records, but the parent has no DS record, so the signatures are never "
                  "validated.") if keys else ""
        out.add(candidate("dnssec_missing", zone, "DS", f"DS {zone}: {ds.status}; DNSKEY: {len(keys or [])} keys",
                          detail=detail))
        return "unsigned"
    problem = _validate(zone, ds.rrset, keys, key_sigs, *_rrsets(soa_msg, zone, dns.rdatatype.SOA))
    if problem is None:
        return "signed"
    out.add(candidate("dnssec_broken", zone, "DNSKEY", f"{problem}\nDS: {'; '.join(ds.records)}",
                      extracted=[problem], detail=f"Problem found: {problem}."))
    return "broken"


def _validate(zone: str, ds: dns.rrset.RRset, keys: dns.rrset.RRset | None, key_sigs: dns.rrset.RRset | None,
              soa: dns.rrset.RRset | None, soa_sigs: dns.rrset.RRset | None) -> str | None:
    """The chain from the parent's DS to the zone's SOA; the first problem found, or None."""
    if not keys:
        return "the parent publishes a DS record but the zone serves no DNSKEY"
    name = dns.name.from_text(zone)
    matching = []
    for key in keys:
        for digest in ds:
            try:
                if dns.dnssec.make_ds(name, key, digest.digest_type) == digest:
                    matching.append(key)
            except (dns.dnssec.UnsupportedAlgorithm, ValueError):
                continue
    if not matching:
        return "no DNSKEY matches the DS record at the parent"
    now = time.time()
    # The key set must be signed by a key the parent vouches for; the rest of the zone by any key of the set.
    anchors = dns.rrset.from_rdata_list(name, keys.ttl, matching)
    for rrset, sigs, signers, what in ((keys, key_sigs, anchors, "DNSKEY"), (soa, soa_sigs, keys, "SOA")):
        if rrset is None or sigs is None:
            return f"the {what} set is not signed"
        try:
            dns.dnssec.validate(rrset, sigs, {name: signers}, now=now)
        except dns.dnssec.UnsupportedAlgorithm:
            return None  # cannot judge an algorithm we do not implement: not a finding
        except dns.dnssec.ValidationFailure as exc:
            return f"the {what} signature does not validate ({exc})"
    return None
