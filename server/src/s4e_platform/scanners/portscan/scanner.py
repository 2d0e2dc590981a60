"""`port_scan`: TCP connect sweep, service identification, finding rules (scanning.md 2.1).

Phases: resolving -> port_scanning (sweep.py) -> service_detection (detect.py, bounded concurrency, each host's
probe connections paced by `rate_limit`) -> finalizing (findings.py). A stop request cancels the running phase;
the result then carries what was learnt so far with `status="cancelled"` (open ports not yet probed are reported
by port number).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from s4e_platform.kit import netsafety
from s4e_platform.scanners.base import (
    InvalidTarget,
    IPAddress,
    ScanContext,
    ScanIssue,
    Scanner,
    ScanResult,
    ScanTarget,
    ServiceObservation,
    TechnologyObservation,
    run_until_stopped,
)
from s4e_platform.scanners.portscan import findings
from s4e_platform.scanners.portscan.detect import identify
from s4e_platform.scanners.portscan.options import PortScanOptions, options_schema, validate_options
from s4e_platform.scanners.portscan.probes import ProbeConfig, ProbeTarget
from s4e_platform.scanners.portscan.sweep import Sweeper, format_ranges
from s4e_platform.scanners.portscan.top_ports import service_name

logger = logging.getLogger(__name__)
MAX_ADDRESSES = 4096  # per task; the dispatcher splits networks into chunks of 256 (scanning.md 1.1)
MAX_NAME_ADDRESSES = 16  # a name with more A/AAAA records (a CDN) is scanned on its first 16
PROBE_CONCURRENCY = 32
MAX_PROBED_PER_HOST = 512  # hosts answering on (nearly) every port are SYN proxies or tar pits
RESOLVE_TIMEOUT = 10.0
_CHECKS_WITHOUT_PROBES = ("telnet_exposed", "database_port_exposed", "smb_exposed", "rdp_exposed")
_CATEGORIES = {"http": "web-server", "ssh": "remote-access", "rdp": "remote-access", "vnc": "remote-access",
               "telnet": "remote-access", "ftp": "file-transfer", "smb": "file-sharing", "smtp": "mail-server",
               "imap": "mail-server", "pop3": "mail-server", "amqp": "message-broker", "mqtt": "message-broker",
               "nats": "message-broker"}


@dataclass
class _Run:
    """State shared by the phases, readable after a cancellation."""

    host: str | None
    addresses: list[IPAddress]
    options: PortScanOptions
    sweeper: Sweeper | None = None
    services: dict[tuple[str, int], ServiceObservation] = field(default_factory=dict)
    issues: list[ScanIssue] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


class PortScanner(Scanner):
    id = "port_scan"
    name = "Port and service discovery"
    category = "network"
    target_types = ("ip", "network", "domain", "url")
    active = True
    version = "1.0.0"
    phase = "port_scanning"
    options_schema = options_schema()

    def validate(self, options: Mapping[str, Any] | None) -> PortScanOptions:
        return validate_options(options)

    async def arun(self, target: ScanTarget, options: Mapping[str, Any] | None, ctx: ScanContext) -> ScanResult:
        opts = self.validate(options)
        started_at = datetime.now(timezone.utc)
        ctx.progress(0.0, "resolving")
        host, literal = _parse_target(target)
        run = _Run(host=host, addresses=literal, options=opts)
        stopped = await run_until_stopped(self._scan(run, ctx), ctx)
        result = self._result(run, target, started_at, stopped)
        ctx.progress(1.0, "finalizing")
        return result

    async def _scan(self, run: _Run, ctx: ScanContext) -> None:
        if run.host is not None and not run.addresses:
            try:
                resolved = await asyncio.to_thread(netsafety.resolve, run.host, RESOLVE_TIMEOUT)
            except netsafety.ResolutionFailed as exc:
                run.issues.append(ScanIssue("resolution_failed", str(exc), run.host))
                resolved = []
            run.addresses = resolved[:MAX_NAME_ADDRESSES]
        allowed = [a for a in run.addresses if ctx.address_allowed(a)]
        for addr in run.addresses:
            if addr not in allowed:
                run.issues.append(ScanIssue("address_not_allowed", f"{addr} is not a public address and not inside "
                                            "the allowed networks of this scan route", str(addr)))
        run.addresses = allowed
        if not run.addresses:
            return
        opts = run.options
        ports = opts.port_list

        def sweep_progress(done: int, total: int) -> None:
            ctx.progress(0.05 + 0.65 * done / max(total, 1), "port_scanning")

        run.sweeper = Sweeper(concurrency=opts.port_concurrency, timeout=opts.port_timeout_ms / 1000,
                              rate=opts.port_rate_limit, on_progress=sweep_progress)
        started = time.monotonic()
        await run.sweeper.run(run.addresses, ports)
        run.timings["sweep_seconds"] = round(time.monotonic() - started, 3)
        if opts.probe:
            started = time.monotonic()
            await self._probe(run, ctx)
            run.timings["probe_seconds"] = round(time.monotonic() - started, 3)

    async def _probe(self, run: _Run, ctx: ScanContext) -> None:
        opts = run.options
        open_ports, per_host = [], {}
        for ip, port in run.sweeper.result.open:
            per_host[ip] = per_host.get(ip, 0) + 1
            if per_host[ip] <= MAX_PROBED_PER_HOST:
                open_ports.append((ip, port))
        for ip, count in per_host.items():
            if count > MAX_PROBED_PER_HOST:
                run.issues.append(ScanIssue("too_many_open_ports", f"{count} open ports: probably a SYN proxy or a "
                                            f"tar pit; only the first {MAX_PROBED_PER_HOST} were probed", ip))
        limiters: dict[str, _Pacer] = {}
        gate = asyncio.Semaphore(PROBE_CONCURRENCY)
        timeout = opts.probe_timeout_ms / 1000

        async def one(ip: str, port: int) -> None:
            pacer = limiters.setdefault(ip, _Pacer(opts.rate_limit))
            config = ProbeConfig(timeout=timeout, banner_wait=min(2.0, timeout / 2), user_agent=opts.user_agent,
                                 before_connect=pacer.wait)
            async with gate:
                try:
                    observed = await identify(ProbeTarget(ip, port, run.host, config))
                except Exception as exc:  # one peer's bytes must never sink the whole scan
                    logger.warning("probe of %s:%s failed: %r", ip, port, exc, exc_info=True)
                    run.issues.append(ScanIssue("probe_failed", f"service detection failed: {exc.__class__.__name__}",
                                                f"{ip}:{port}"))
                    return
            run.services[(ip, port)] = observed
            ctx.progress(0.7 + 0.25 * len(run.services) / max(len(open_ports), 1), "service_detection")

        ctx.progress(0.7, "service_detection")
        await asyncio.gather(*(one(ip, port) for ip, port in open_ports))

    def _result(self, run: _Run, target: ScanTarget, started_at: datetime, stopped: bool) -> ScanResult:
        sweep = run.sweeper.result if run.sweeper is not None else None
        services = [run.services.get((ip, port)) or ServiceObservation(
            ip=ip, port=port, host=run.host, service=service_name(port) or "unknown", method="port")
            for ip, port in sorted(sweep.open if sweep else [], key=_order)]

        def internet(ip: str) -> bool:
            return target.network_zone != "internal" and netsafety.is_public(ipaddress.ip_address(ip))

        status = "cancelled" if stopped else "failed" if not run.addresses else (
            "partial" if run.issues else "completed")
        checks = findings.CHECK_IDS if run.options.probe else _CHECKS_WITHOUT_PROBES
        return ScanResult(
            scanner=self.id, status=status, started_at=started_at, finished_at=datetime.now(timezone.utc),
            services=services, technologies=_technologies(services), findings=findings.evaluate(services, internet),
            issues=run.issues, raw_output=_table(run.host, services),
            coverage={"hosts": {str(a): format_ranges(run.options.port_list) for a in run.addresses},
                      "checks": list(checks)} if status in ("completed", "partial") else {},
            stats=_stats(run, sweep))


class _Pacer:
    """Token bucket per host for probe connections (`rate_limit`), bursts of up to one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate, self.tokens, self.at = rate, rate, time.monotonic()
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
                self.at = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


def _parse_target(target: ScanTarget) -> tuple[str | None, list[IPAddress]]:
    """(name to resolve and to present as Host/SNI, literal addresses)."""
    value = target.value.strip() if isinstance(target.value, str) else ""
    if not value or len(value) > 2048:
        raise InvalidTarget("invalid_target", "target value must be 1-2048 characters")
    if target.type in ("ip", "network"):
        try:
            if target.type == "ip":
                return None, [ipaddress.ip_address(value.strip("[]"))]
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise InvalidTarget("invalid_target", f"{target.type} target is not a valid address") from None
        if network.num_addresses > MAX_ADDRESSES:
            raise InvalidTarget("target_too_large", f"networks are scanned in chunks of at most {MAX_ADDRESSES} "
                                                    "addresses")
        return None, list(network.hosts()) or [network.network_address]
    if target.type == "url":
        try:
            parsed = netsafety.parse_url(value)
        except netsafety.UnsafeURL as exc:
            raise InvalidTarget("invalid_target", exc.message) from None
        return (None, [parsed.literal]) if parsed.literal is not None else (parsed.host, [])
    if target.type == "domain":
        try:
            if any(c in value for c in "/@:?#[]\\"):
                raise netsafety.UnsafeURL("invalid_url", "not a host name")
            parsed = netsafety.parse_url(f"https://{value}/")
        except netsafety.UnsafeURL:
            raise InvalidTarget("invalid_target", "domain target is not a valid host name") from None
        if parsed.literal is not None:
            raise InvalidTarget("invalid_target", "domain target is an address: use an ip target")
        return parsed.host, []
    raise InvalidTarget("unsupported_target", f"port_scan does not scan {target.type!r} targets")


def _order(item: tuple[str, int]) -> tuple[int, int, int]:
    addr = ipaddress.ip_address(item[0])
    return addr.version, int(addr), item[1]


def _technologies(services: list[ServiceObservation]) -> list[TechnologyObservation]:
    out = []
    for s in services:
        if s.product and s.method != "port":
            category = "database" if s.service in findings.DATABASE_SERVICES else _CATEGORIES.get(s.service or "")
            out.append(TechnologyObservation(name=s.product, version=s.version, cpe=s.cpe[0] if s.cpe else None,
                                             categories=[category] if category else [], ip=s.ip, port=s.port))
    return out


def _table(host: str | None, services: list[ServiceObservation]) -> str:
    lines = []
    for ip in dict.fromkeys(s.ip for s in services):
        lines.append(f"Host {ip}" + (f" ({host})" if host else ""))
        lines.append(f"{'PORT':<10}{'STATE':<7}{'SERVICE':<18}VERSION")
        for s in (x for x in services if x.ip == ip):
            name = ("ssl/" if s.tls else "") + (s.service or "unknown")
            product = " ".join(v for v in (s.product, s.version) if v)
            lines.append(f"{f'{s.port}/{s.protocol}':<10}{s.state:<7}{name:<18}{product}".rstrip())
    return "\n".join(lines)


def _stats(run: _Run, sweep) -> dict[str, Any]:
    stats: dict[str, Any] = {"addresses": len(run.addresses), "ports_per_address": len(run.options.port_list),
                             **run.timings}
    if sweep is not None:
        stats.update(attempts=sweep.attempts, open=len(sweep.open), closed=sweep.closed,
                     filtered=len(sweep.filtered), unreachable=len(sweep.unreachable), retried=sweep.retried,
                     concurrency=run.sweeper.concurrency)
    return stats
