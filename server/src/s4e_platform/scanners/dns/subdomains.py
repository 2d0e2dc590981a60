"""`subdomain_discovery` (scanning.md 2.1): candidate names from our wordlist (5,000 names; 50,000 with
`enable_bruteforce`), the TLS certificate of the domain's web host (SANs), and the domain's MX/NS/CNAME targets;
each is resolved, and wordlist hits that only echo a wildcard record are dropped.

Names from certificates and records are kept even under a wildcard: someone named them on purpose.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from cryptography import x509

from s4e_platform.scanners.base import DiscoveredAssetObservation
from s4e_platform.scanners.dns.bulk import BulkResolver, open_bulk
from s4e_platform.scanners.dns.client import Dns, text_name
from s4e_platform.scanners.dns.records import wildcard_answers

WORDLIST_SIZE = 5_000
BRUTEFORCE_SIZE = 50_000
TOP_FOR_AFFIXES = 150  # the most likely labels get every tier-1 affix before the others get any
RESOLVE_CONCURRENCY = 64
CERT_TIMEOUT = 5.0
MAX_DISCOVERED = 10_000
GIVE_UP_AFTER = 200  # lookups failing in a row from the start: the resolvers are unusable, stop early


@lru_cache(maxsize=1)
def _data() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    def lines(name: str) -> list[str]:
        text = resources.files(__package__).joinpath("wordlists", name).read_text("utf-8")
        return [ln.strip().lower() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]

    tiers: dict[str, list[str]] = {}
    current = None
    for line in lines("modifiers.txt"):
        if line.startswith("[") and line.endswith("]"):
            current = tiers.setdefault(line[1:-1], [])
        elif current is not None:
            current.append(line)
    return tuple(dict.fromkeys(lines("names.txt"))), tuple(tiers["tier1"]), tuple(tiers["tier2"])


def _affix(base: str, modifier: str) -> str:
    if modifier.startswith("-"):
        return base + modifier
    if modifier.endswith("-"):
        return modifier + base
    return base + modifier


@lru_cache(maxsize=2)
def wordlist(bruteforce: bool = False) -> tuple[str, ...]:
    """Labels in priority order: every base label, then affixed variants (tier 1 on the most likely labels; with
    `bruteforce` tier 1 and tier 2 on all of them)."""
    bases, tier1, tier2 = _data()
    limit = BRUTEFORCE_SIZE if bruteforce else WORDLIST_SIZE
    out = dict.fromkeys(bases)
    if bruteforce:
        passes = [((*tier1, *tier2), bases)]
    else:
        passes = [(tier1, bases[:TOP_FOR_AFFIXES]), (tier1, bases[TOP_FOR_AFFIXES:])]
    for modifiers, labels in passes:
        for modifier in modifiers:
            for base in labels:
                if len(out) >= limit:
                    return tuple(out)
                out.setdefault(_affix(base, modifier), None)
    return tuple(out)


@dataclass
class Discovery:
    """What a discovery run found so far (read after a cancellation too)."""

    found: dict[str, DiscoveredAssetObservation] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    resolved: int = 0
    errors: int = 0
    filtered: int = 0
    wildcard: list[str] = field(default_factory=list)
    certificate_names: list[str] = field(default_factory=list)
    wildcard_unknown: bool = False
    wildcard_addresses: set[str] = field(default_factory=set)
    wildcard_cname: str | None = None
    gave_up: bool = False


def _under(name: str, domain: str) -> str | None:
    name = text_name(name).removeprefix("*.")
    return name if name.endswith("." + domain) and len(name) <= 253 else None


async def certificate_names(client: Dns, domain: str, addresses: list[str]) -> list[str]:
    """DNS names of the certificate the domain's HTTPS server presents (no verification: we only read names)."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    for address in [a for a in addresses if client.allowed(a)][:2]:
        try:
            async with asyncio.timeout(CERT_TIMEOUT):
                _reader, writer = await asyncio.open_connection(address, client.config.tls_port, ssl=tls,
                                                                server_hostname=domain)
        except (OSError, ssl.SSLError, TimeoutError):
            continue
        try:
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        finally:
            writer.close()
        try:
            cert = x509.load_der_x509_certificate(der)
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except (ValueError, x509.ExtensionNotFound):
            return []
        return [str(n) for n in names.get_values_for_type(x509.DNSName)][:500]
    return []


async def record_targets(client: Dns, domain: str) -> list[str]:
    found = await asyncio.gather(*(client.lookup(domain, t) for t in ("MX", "NS", "CNAME", "SRV")))
    return [r.split()[-1] for f in found if f.status == "ok" for r in f.records]


async def discover(client: Dns, domain: str, bruteforce: bool, state: Discovery,
                   progress: Callable[[float], None]) -> None:
    wildcard = await wildcard_answers(client, domain)
    state.wildcard_unknown = wildcard is None
    addresses, cname = wildcard if wildcard else (set(), None)
    state.wildcard_addresses, state.wildcard_cname = addresses, cname
    state.wildcard = sorted(addresses) + ([f"CNAME {cname}"] if cname else [])
    own, _ = await client.addresses(domain)
    state.certificate_names = await certificate_names(client, domain, own)
    for raw, source in [*((n, "certificate") for n in state.certificate_names),
                        *((n, "dns_record") for n in await record_targets(client, domain))]:
        name = _under(raw, domain)
        if name:
            state.sources.setdefault(name, source)
    for label in wordlist(bruteforce):
        state.sources.setdefault(f"{label}.{domain}", "wordlist")
    bulk = await open_bulk(client)
    try:
        await _resolve_all(client, bulk, state, progress)
    finally:
        if bulk is not None:
            bulk.close()


async def _resolve_all(client: Dns, bulk: BulkResolver | None, state: Discovery,
                       progress: Callable[[float], None]) -> None:
    addresses, cname = state.wildcard_addresses, state.wildcard_cname
    total = len(state.sources)
    pending = iter(list(state.sources.items()))

    async def worker() -> None:
        # A fixed pool pulling from one iterator: 50,000 names never become 50,000 tasks.
        for name, source in pending:
            if state.gave_up:
                return
            await one(name, source)

    async def one(name: str, source: str) -> None:
        found, first = await (bulk.addresses(name) if bulk else client.addresses(name, both=False))
        state.resolved += 1
        progress(state.resolved / total)
        if first.status == "error":
            state.errors += 1
            state.gave_up = state.errors >= GIVE_UP_AFTER and state.errors == state.resolved
            return
        exists = bool(found) or first.canonical is not None
        if not exists or len(state.found) >= MAX_DISCOVERED:
            return
        if source == "wordlist" and (addresses or cname) and set(found) <= addresses and first.canonical in (
                None, cname):
            state.filtered += 1  # only the wildcard answering
            return
        details = {"cname": first.canonical} if first.canonical else {}
        if first.status == "nxdomain":
            details["dangling"] = True  # a CNAME to a name that does not exist: the dns scanner will flag it
        state.found[name] = DiscoveredAssetObservation(type="domain", value=name, source=source,
                                                       addresses=sorted(set(found)), details=details)

    await asyncio.gather(*(worker() for _ in range(RESOLVE_CONCURRENCY)))
