"""From a scan target to the (host name, address, port) endpoints a web-facing scanner connects to.

A name is resolved once and every connection goes to an address the scan's address policy allows
(`ScanContext.address_allowed`), keeping the name for SNI and `Host`. A name with several addresses is checked on
the first allowed one: they normally share one configuration, and findings are keyed by service, not address.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass

from s4e_platform.kit import netsafety
from s4e_platform.scanners.base import InvalidTarget, IPAddress, ScanContext, ScanIssue, ScanTarget

RESOLVE_TIMEOUT = 10.0


@dataclass(frozen=True)
class TargetSpec:
    """`host`: ASCII (IDNA) name or None for an address; `url`: the parsed URL of a url target."""

    host: str | None
    literal: IPAddress | None
    url: netsafety.OutboundURL | None


@dataclass(frozen=True)
class Endpoint:
    host: str | None
    ip: str
    port: int

    @property
    def name(self) -> str:
        """The name certificates and Host headers are judged against."""
        return self.host or self.ip

    def host_header(self, scheme: str) -> str:
        host = self.host or (f"[{self.ip}]" if ":" in self.ip else self.ip)
        return host if self.port == (443 if scheme == "https" else 80) else f"{host}:{self.port}"

    def where(self) -> str:
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"


def parse_target(target: ScanTarget, scanner_id: str) -> TargetSpec:
    """Structural checks only (no traffic). Raises InvalidTarget."""
    value = target.value.strip() if isinstance(target.value, str) else ""
    if not value or len(value) > netsafety.MAX_URL_LENGTH:
        raise InvalidTarget("invalid_target", "target value must be 1-2048 characters")
    if target.type == "ip":
        try:
            return TargetSpec(None, ipaddress.ip_address(value.strip("[]")), None)
        except ValueError:
            raise InvalidTarget("invalid_target", "ip target is not a valid address") from None
    if target.type == "url":
        try:
            parsed = netsafety.parse_url(value)
        except netsafety.UnsafeURL as exc:
            raise InvalidTarget("invalid_target", exc.message) from None
        return TargetSpec(None if parsed.literal is not None else parsed.host, parsed.literal, parsed)
    if target.type == "domain":
        try:
            if any(c in value for c in "/@:?#[]\\"):
                raise netsafety.UnsafeURL("invalid_url", "not a host name")
            parsed = netsafety.parse_url(f"https://{value}/")
        except netsafety.UnsafeURL:
            raise InvalidTarget("invalid_target", "domain target is not a valid host name") from None
        if parsed.literal is not None:
            raise InvalidTarget("invalid_target", "domain target is an address: use an ip target")
        return TargetSpec(parsed.host, None, None)
    raise InvalidTarget("unsupported_target", f"{scanner_id} does not scan {target.type!r} targets")


async def pick_address(spec: TargetSpec, ctx: ScanContext, issues: list[ScanIssue]) -> IPAddress | None:
    """The address to connect to, or None (with the reason appended to `issues`)."""
    if spec.literal is not None:
        candidates = [spec.literal]
    else:
        try:
            candidates = await asyncio.to_thread(netsafety.resolve, spec.host, RESOLVE_TIMEOUT)
        except netsafety.ResolutionFailed as exc:
            issues.append(ScanIssue("resolution_failed", str(exc), spec.host))
            return None
    for addr in candidates:
        if ctx.address_allowed(addr):
            return addr
    issues.append(ScanIssue("address_not_allowed", f"{', '.join(map(str, candidates[:3]))} is not a public address "
                            "and not inside the allowed networks of this scan route", spec.host or str(spec.literal)))
    return None
