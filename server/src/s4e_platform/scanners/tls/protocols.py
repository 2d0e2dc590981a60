"""Protocol versions and cipher suites a TLS endpoint accepts, from raw ClientHello probes (hello.py).

Per version: offer every suite; a ServerHello for that version means the version is accepted and names one
suite; offer the rest again until the server refuses. The suites come out in the order the server picks them
(its preference order when it enforces one). Versions are probed concurrently, each version's probes in sequence.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from s4e_platform.scanners.tls import hello
from s4e_platform.scanners.tls.suites import suite_name, suites_for

PROBED_VERSIONS = ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")


@dataclass
class ProtocolScan:
    """`accepted`: version -> IANA suite names; `errors`: versions whose support could not be decided."""

    accepted: dict[str, list[str]] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    not_tls: str | None = None
    certificates: list[bytes] = field(default_factory=list)
    probes: int = 0

    @property
    def decided(self) -> bool:
        """Every version was either accepted or refused (nothing lost to timeouts)."""
        return not self.errors and self.not_tls is None


async def _version(scan: ProtocolScan, ip: str, port: int, version: str, server_name: str | None,
                   timeout: float, gate: asyncio.Semaphore) -> None:
    remaining = suites_for(version)
    chosen: list[str] = []
    first = True
    while remaining:
        async with gate:
            answer = await hello.probe(ip, port, version, remaining, server_name=server_name, timeout=timeout,
                                       want_certificates=first and version != "TLSv1.3")
        scan.probes += 1
        if answer.status == "not_tls":
            scan.not_tls = answer.detail
            return
        if answer.status == "error":
            if first:
                scan.errors[version] = answer.detail
            return  # suites found so far stand; the list may be incomplete
        if answer.status != "accepted" or answer.suite not in remaining:
            break
        if first and answer.certificates and not scan.certificates:
            scan.certificates = answer.certificates
        first = False
        chosen.append(suite_name(answer.suite))
        remaining = [code for code in remaining if code != answer.suite]
    if chosen:
        scan.accepted[version] = chosen
    elif version not in scan.errors:
        scan.rejected.append(version)


async def scan_protocols(scan: ProtocolScan, ip: str, port: int, *, server_name: str | None, timeout: float,
                         concurrency: int = 3) -> ProtocolScan:
    """Probe every version into `scan`, which holds what was learnt so far if the caller is cancelled."""
    gate = asyncio.Semaphore(concurrency)
    await asyncio.gather(*(_version(scan, ip, port, v, server_name, timeout, gate) for v in PROBED_VERSIONS))
    scan.accepted = {v: scan.accepted[v] for v in PROBED_VERSIONS if v in scan.accepted}
    scan.rejected = [v for v in PROBED_VERSIONS if v in scan.rejected]
    return scan
