"""The DNS scanners of the catalog (scanning.md 2.1): `dns`, `email_security`, `subdomain_discovery`.

All three take a `domain` target and share the DNS client (client.py). Resolvers come from `S4E_DNS_NAMESERVERS`
(or the system) unless a `DnsConfig` is passed to the constructor; scan options never choose resolvers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from s4e_platform.kit import netsafety
from s4e_platform.scanners.base import (
    InvalidTarget,
    ScanContext,
    ScanIssue,
    Scanner,
    ScanResult,
    ScanTarget,
    run_until_stopped,
)
from s4e_platform.scanners.dns import email, records, zone
from s4e_platform.scanners.dns.client import Dns, DnsConfig
from s4e_platform.scanners.dns.findings import RULES, Collector
from s4e_platform.scanners.dns.subdomains import Discovery, discover
from s4e_platform.scanners.exposed_files.options import parse, schema

DNS_CHECKS = ("axfr_allowed", "dangling_cname", "dnssec_broken", "dnssec_missing", "caa_missing", "wildcard_dns",
              "ns_lame", "ns_inconsistent")
EMAIL_CHECKS = tuple(c for c in RULES if c not in DNS_CHECKS)


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class DiscoveryOptions(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    enable_bruteforce: bool = Field(False, description="resolve the 50,000-name wordlist instead of 5,000 names")


def parse_domain(target: ScanTarget, scanner_id: str) -> str:
    if target.type != "domain":
        raise InvalidTarget("unsupported_target", f"{scanner_id} does not scan {target.type!r} targets")
    value = target.value.strip().rstrip(".") if isinstance(target.value, str) else ""
    if not value or any(c in value for c in "/@:?#[]\\ "):
        raise InvalidTarget("invalid_target", "domain target is not a valid host name")
    try:
        parsed = netsafety.parse_url(f"https://{value}/")
    except netsafety.UnsafeURL:
        raise InvalidTarget("invalid_target", "domain target is not a valid host name") from None
    if parsed.literal is not None or "." not in parsed.host:
        raise InvalidTarget("invalid_target", "domain target must be a DNS name with at least two labels")
    return parsed.host


class _DnsScanner(Scanner):
    category = "dns"
    target_types = ("domain",)
    version = "1.0.0"
    checks: tuple[str, ...] = ()

    def __init__(self, config: DnsConfig | None = None) -> None:
        self._config = config

    def validate(self, options: Mapping[str, Any] | None) -> Any:
        return parse(NoOptions, options)

    def client(self, ctx: ScanContext) -> Dns:
        return Dns(self._config or DnsConfig.from_settings(), ctx)

    async def arun(self, target: ScanTarget, options: Mapping[str, Any] | None, ctx: ScanContext) -> ScanResult:
        self.validate(options)
        domain = parse_domain(target, self.id)
        started_at = datetime.now(timezone.utc)
        client, out = self.client(ctx), Collector()
        ctx.progress(0.0, self.phase)
        stopped = await run_until_stopped(self._checked(client, domain, out, ctx), ctx)
        ctx.progress(1.0, "finalizing")
        unevaluated = [c for c in self.checks if c not in out.checks]
        status = "cancelled" if stopped else "failed" if not out.checks else (
            "partial" if unevaluated or out.issues else "completed")
        return ScanResult(
            scanner=self.id, status=status, started_at=started_at, finished_at=datetime.now(timezone.utc),
            findings=out.findings, issues=out.issues, asset_metadata=out.metadata if not stopped else {},
            coverage={} if stopped else {"dns": sorted(client.queried), "checks": sorted(out.checks)},
            stats={"queries": len(client.queried), "lookup_errors": client.errors}, raw_output="\n".join(out.log))

    async def _checked(self, client: Dns, domain: str, out: Collector, ctx: ScanContext) -> None:
        exists = await client.lookup(domain, "SOA")
        if exists.status == "nxdomain" and not exists.canonical:  # a dangling CNAME still is a name
            out.issue("domain_not_found", f"{domain} does not exist (NXDOMAIN)", domain)
            return
        await self.work(client, domain, out, ctx)

    def work(self, client: Dns, domain: str, out: Collector, ctx: ScanContext) -> Coroutine[Any, Any, None]:
        raise NotImplementedError


class DnsScanner(_DnsScanner):
    id = "dns"
    name = "DNS configuration"
    active = True
    phase = "dns_checks"
    options_schema = schema(NoOptions)
    checks = DNS_CHECKS

    async def work(self, client: Dns, domain: str, out: Collector, ctx: ScanContext) -> None:
        out.metadata["dns"] = dns_meta = {"records": await records.snapshot(client, domain)}
        ctx.progress(0.1, self.phase)
        await asyncio.gather(records.check_caa(client, domain, out), records.check_wildcard(client, domain, out))
        found_zone = await zone.zone_of(client, domain)
        servers = await zone.name_servers(client, found_zone) if found_zone else None
        ctx.progress(0.3, self.phase)
        transferred = []
        if servers is None:
            out.issue("zone_not_found", "the zone and its name servers could not be determined", domain)
        else:
            dns_meta.update(zone=found_zone, nameservers={s.name: s.addresses for s in servers})
            await zone.check_name_servers(client, found_zone, servers, out)
            ctx.progress(0.5, self.phase)
            transferred = await zone.check_axfr(client, found_zone, servers, out)
            ctx.progress(0.7, self.phase)
            dns_meta["dnssec"] = await zone.check_dnssec(client, found_zone, servers, out)
        ctx.progress(0.85, self.phase)
        await records.check_dangling(client, domain, transferred, out)


class EmailSecurityScanner(_DnsScanner):
    id = "email_security"
    name = "E-mail security (SPF, DMARC, DKIM, MTA-STS, TLS-RPT)"
    active = False
    phase = "email_checks"
    options_schema = schema(NoOptions)
    checks = EMAIL_CHECKS

    async def work(self, client: Dns, domain: str, out: Collector, ctx: ScanContext) -> None:
        await asyncio.gather(email.check_spf(client, domain, out), email.check_dmarc(client, domain, out))
        ctx.progress(0.5, self.phase)
        mail = await email.receives_mail(client, domain, out)
        if mail:
            await email.check_inbound(client, domain, out)
        elif mail is False:  # no mail accepted: inbound transport checks do not apply, nothing to find
            out.evaluated("dkim_missing", "mta_sts_missing", "mta_sts_invalid", "tls_rpt_missing")
        out.metadata = {"email": out.metadata}


class SubdomainDiscoveryScanner(_DnsScanner):
    id = "subdomain_discovery"
    name = "Subdomain discovery"
    category = "discovery"
    active = False
    phase = "subdomain_discovery"
    options_schema = schema(DiscoveryOptions)

    def validate(self, options: Mapping[str, Any] | None) -> DiscoveryOptions:
        return parse(DiscoveryOptions, options)

    async def arun(self, target: ScanTarget, options: Mapping[str, Any] | None, ctx: ScanContext) -> ScanResult:
        opts = self.validate(options)
        domain = parse_domain(target, self.id)
        started_at = datetime.now(timezone.utc)
        client, state = self.client(ctx), Discovery()
        ctx.progress(0.0, self.phase)

        def progress(fraction: float) -> None:
            ctx.progress(fraction, self.phase)

        stopped = await run_until_stopped(discover(client, domain, opts.enable_bruteforce, state, progress), ctx)
        ctx.progress(1.0, "finalizing")
        found = sorted(state.found.values(), key=lambda a: a.value)
        issues = [ScanIssue("resolvers_failing", f"the first {state.errors} lookups all failed; discovery stopped",
                            domain)] if state.gave_up else []
        if state.wildcard_unknown:
            issues.append(ScanIssue("wildcard_not_tested", "lookups of random names failed: wildcard answers "
                                    "could not be filtered", domain))
        status = "cancelled" if stopped else "failed" if state.resolved and state.errors == state.resolved else (
            "partial" if state.errors or state.wildcard_unknown else "completed")
        stats = {"candidates": len(state.sources), "resolved": state.resolved, "lookup_errors": state.errors,
                 "wildcard": state.wildcard, "wildcard_filtered": state.filtered,
                 "certificate_names": len(state.certificate_names), "discovered": len(found)}
        return ScanResult(scanner=self.id, status=status, started_at=started_at,
                          finished_at=datetime.now(timezone.utc), discovered_assets=found, issues=issues,
                          coverage={} if stopped else {"checks": []}, stats=stats,
                          raw_output="\n".join(f"{a.value}\t{a.source}\t{' '.join(a.addresses)}" for a in found))
