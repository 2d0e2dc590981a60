"""Name-level checks of the `dns` scanner: CAA, wildcard records, dangling CNAMEs, and the record snapshot
stored in the asset metadata."""

from __future__ import annotations

import asyncio
import secrets

import dns.rdatatype
import dns.rrset

from s4e_platform.scanners.dns import takeover
from s4e_platform.scanners.dns.client import Dns, text_name
from s4e_platform.scanners.dns.findings import Collector, candidate

SNAPSHOT_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "TXT", "CAA", "SOA")
MAX_CNAMES = 200  # CNAMEs checked from a zone transfer
MAX_TXT = 20


async def snapshot(client: Dns, name: str) -> dict[str, list[str]]:
    found = await asyncio.gather(*(client.lookup(name, t) for t in SNAPSHOT_TYPES))
    records = {f.rdtype: f.records[:MAX_TXT] for f in found if f.status == "ok" and not f.canonical}
    cname = next((f.canonical for f in found if f.canonical), None)
    if cname:
        records["CNAME"] = [cname + "."]
    return records


async def check_caa(client: Dns, name: str, out: Collector) -> None:
    """CAA applies from the closest ancestor that has a record set (RFC 8659 tree climbing)."""
    labels = name.split(".")
    for i in range(0, max(len(labels) - 1, 1)):
        owner = ".".join(labels[i:])
        found = await client.lookup(owner, "CAA")
        if found.status == "error":
            out.issue("caa_not_tested", found.error or "lookup failed", owner)
            return
        if found.status == "ok":
            out.evaluated("caa_missing")
            out.log.append(f"CAA {name}: governed by {owner}: {'; '.join(found.records)}")
            return
    out.evaluated("caa_missing")
    out.add(candidate("caa_missing", name, "CAA", f"No CAA record at {name} or any parent domain"))


async def wildcard_answers(client: Dns, domain: str) -> tuple[set[str], str | None] | None:
    """What two random names under `domain` resolve to: (addresses, CNAME target) when a wildcard answers, an empty
    set when none does, None when the lookups failed."""
    probes = [f"s4e-{secrets.token_hex(6)}.{domain}" for _ in range(2)]
    answers = await asyncio.gather(*(client.addresses(p) for p in probes))
    if any(first.status == "error" for _a, first in answers):
        return None
    addresses = {a for found, _first in answers for a in found}
    cname = next((first.canonical for _a, first in answers if first.canonical), None)
    return addresses, cname


async def check_wildcard(client: Dns, domain: str, out: Collector) -> set[str] | None:
    found = await wildcard_answers(client, domain)
    if found is None:
        out.issue("wildcard_not_tested", "lookups of random names failed", domain)
        return None
    out.evaluated("wildcard_dns")
    addresses, cname = found
    if addresses or cname:
        shown = sorted(addresses) + ([f"CNAME {cname}"] if cname else [])
        out.add(candidate("wildcard_dns", f"*.{domain}", "A", f"Random names under {domain} resolve to: "
                          + ", ".join(shown), extracted=shown))
    return addresses


async def check_dangling(client: Dns, name: str, zone_records: list[dns.rrset.RRset], out: Collector) -> None:
    """The target name's CNAME, and every CNAME a zone transfer revealed."""
    pairs: dict[str, str] = {}
    own = await client.lookup(name, "CNAME")
    if own.status == "error":
        out.issue("dangling_cname_not_tested", own.error or "lookup failed", name)
        return
    if own.status == "ok":
        pairs[name] = text_name(own.rrset[0].target)
    for rrset in zone_records:
        if rrset.rdtype == dns.rdatatype.CNAME and len(pairs) < MAX_CNAMES:
            pairs.setdefault(text_name(rrset.name), text_name(rrset[0].target))
    results = await asyncio.gather(*(_dangling(client, owner, target, out) for owner, target in pairs.items()))
    if all(results):
        out.evaluated("dangling_cname")


async def _dangling(client: Dns, owner: str, target: str, out: Collector) -> bool:
    """Checks one CNAME; False when it could not be judged."""
    addresses, first = await client.addresses(target)
    if first.status == "error":
        out.issue("dangling_cname_not_tested", first.error or "lookup failed", owner)
        return False
    service = takeover.service_for(first.canonical or target)
    where = f" ({service.name})" if service else ""
    if first.status == "nxdomain":
        end = first.canonical or target
        out.add(candidate("dangling_cname", owner, "CNAME", f"{owner} CNAME {target}: {end} does not exist "
                          "(NXDOMAIN)", extracted=[target], detail=f"The CNAME target {end}{where} does not exist."))
        return True
    if service is not None:
        marker = await takeover.unclaimed_page(client, owner, service, addresses)
        if marker:
            out.add(candidate("dangling_cname", owner, "CNAME", f"{owner} CNAME {target}; http://{owner}/ shows "
                              f"{service.name}'s page for an unclaimed resource: {marker!r}",
                              extracted=[target, service.name],
                              detail=f"{service.name} reports that no resource is claimed for this name."))
    return True
