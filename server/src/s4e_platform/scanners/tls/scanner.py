"""`tls`: protocol versions, cipher suites, certificate and HSTS checks (scanning.md 2.1).

Per endpoint (address x TLS port): raw ClientHello probes decide versions and suites (protocols.py), one full
handshake with OpenSSL fetches the chain and reads the HTTP response head for HSTS (handshake.py), and
certificate.py judges the chain. SSL 3.0 is probed with a raw ClientHello: the local OpenSSL 3 cannot negotiate it,
but a server's ServerHello for it is proof enough. A stop request cancels the running probes; what was learnt
until then is returned with `status="cancelled"`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cryptography import x509

from s4e_platform.scanners.base import (
    ScanContext,
    ScanIssue,
    Scanner,
    ScanResult,
    ScanTarget,
    ServiceObservation,
    run_until_stopped,
)
from s4e_platform.scanners.tls import certificate, findings
from s4e_platform.scanners.tls.handshake import Handshake, connect
from s4e_platform.scanners.tls.options import TLSOptions, model_schema, validate_options
from s4e_platform.scanners.tls.protocols import ProtocolScan, scan_protocols
from s4e_platform.scanners.tls.suites import weaknesses
from s4e_platform.scanners.tls.target import Endpoint, parse_target, pick_address

ENDPOINT_CONCURRENCY = 4


@dataclass
class _EndpointRun:
    endpoint: Endpoint
    protocols: ProtocolScan = field(default_factory=ProtocolScan)
    handshake: Handshake | None = None
    cert: certificate.CertReport | None = None
    done: bool = False


@dataclass
class _Run:
    options: TLSOptions
    roots: list[x509.Certificate] = field(default_factory=list)
    endpoints: list[_EndpointRun] = field(default_factory=list)
    issues: list[ScanIssue] = field(default_factory=list)


class TLSScanner(Scanner):
    id = "tls"
    name = "TLS configuration and certificates"
    category = "tls"
    target_types = ("domain", "ip", "url")
    active = True
    version = "1.0.0"
    phase = "tls_checks"
    options_schema = model_schema(TLSOptions)

    def validate(self, options: Mapping[str, Any] | None) -> TLSOptions:
        return validate_options(options)

    async def arun(self, target: ScanTarget, options: Mapping[str, Any] | None, ctx: ScanContext) -> ScanResult:
        opts = self.validate(options)
        spec = parse_target(target, self.id)
        started_at = datetime.now(timezone.utc)
        ports = (spec.url.port,) if spec.url is not None and spec.url.scheme == "https" else opts.port_list
        run = _Run(options=opts)
        ctx.progress(0.0, "resolving")
        address = await pick_address(spec, ctx, run.issues)
        stopped = False
        if address is not None:
            run.endpoints = [_EndpointRun(Endpoint(spec.host, str(address), port)) for port in ports]
            stopped = await run_until_stopped(self._scan(run, ctx), ctx)
        result = self._result(run, started_at, stopped)
        ctx.progress(1.0, "finalizing")
        return result

    async def _scan(self, run: _Run, ctx: ScanContext) -> None:
        roots = list(await asyncio.to_thread(certificate.system_roots))
        if run.options.ca_bundle_pem:
            roots += certificate.load_pem_certificates(run.options.ca_bundle_pem.encode())
        run.roots = roots
        gate = asyncio.Semaphore(ENDPOINT_CONCURRENCY)
        finished = 0

        async def one(item: _EndpointRun) -> None:
            nonlocal finished
            async with gate:
                await self._endpoint(item, run)
            finished += 1
            ctx.progress(0.05 + 0.9 * finished / len(run.endpoints), "tls_checks")

        ctx.progress(0.05, "tls_checks")
        await asyncio.gather(*(one(item) for item in run.endpoints))

    async def _endpoint(self, item: _EndpointRun, run: _Run) -> None:
        ep, opts = item.endpoint, run.options
        timeout = opts.tls_timeout_ms / 1000
        await scan_protocols(item.protocols, ep.ip, ep.port, server_name=ep.host, timeout=timeout)
        if not item.protocols.accepted:
            item.done = True
            return
        item.handshake = await connect(ep.ip, ep.port, server_name=ep.host, host_header=ep.host_header("https"),
                                       timeout=timeout, user_agent=opts.user_agent)
        chain = item.handshake.chain or item.protocols.certificates
        if chain:
            try:
                item.cert = await asyncio.to_thread(certificate.analyse, chain, host=ep.name, roots=run.roots,
                                                    now=datetime.now(timezone.utc))
            except ValueError as exc:
                run.issues.append(ScanIssue("certificate_unparseable", f"leaf certificate: {exc}", ep.where()))
        item.done = True

    def _result(self, run: _Run, started_at: datetime, stopped: bool) -> ScanResult:
        now = datetime.now(timezone.utc)
        services, found, per_service = [], [], {}
        issues = list(run.issues)
        for item in run.endpoints:
            evaluation = _evaluate(item, now, issues)
            found.extend(evaluation.findings)
            if item.protocols.accepted:
                services.append(_service(item))
            if evaluation.checks:
                per_service[item.endpoint.where()] = sorted(set(evaluation.checks))
        speaking = [i for i in run.endpoints if i.protocols.accepted]
        if stopped:
            status = "cancelled"
        elif not speaking:
            status = "failed"
        else:
            status = "partial" if issues else "completed"
        checks = set.intersection(*(set(c) for c in per_service.values())) if per_service else set()
        coverage = {"hosts": _hosts(speaking), "checks": sorted(checks), "services": per_service} \
            if status in ("completed", "partial") else {}
        return ScanResult(scanner=self.id, status=status, started_at=started_at, finished_at=now,
                          services=services, findings=found, issues=issues, coverage=coverage,
                          stats={"endpoints": len(run.endpoints), "tls_endpoints": len(speaking),
                                 "probes": sum(i.protocols.probes for i in run.endpoints)},
                          raw_output="\n\n".join(_report(i) for i in speaking))


def _evaluate(item: _EndpointRun, now: datetime, issues: list[ScanIssue]) -> findings.Evaluation:
    ep, scan, out = item.endpoint, item.protocols, findings.Evaluation()
    if scan.not_tls is not None:
        issues.append(ScanIssue("not_tls", f"{ep.where()} does not speak TLS ({scan.not_tls})", ep.where()))
        return out
    if not scan.accepted:
        if scan.errors or not item.done:
            reason = "; ".join(f"{v}: {e}" for v, e in scan.errors.items()) or "stopped"
            issues.append(ScanIssue("unreachable", f"{ep.where()} could not be probed ({reason})", ep.where()))
        else:
            issues.append(ScanIssue("not_tls", f"{ep.where()} accepted no TLS/SSL version", ep.where()))
        return out
    for version, error in scan.errors.items():
        issues.append(ScanIssue("probe_failed", f"{version} support unknown: {error}", ep.where()))
    findings.evaluate_protocols(ep, scan, out)
    if item.cert is not None:
        findings.evaluate_certificate(ep, item.cert, now, out)
    elif item.done:
        error = item.handshake.error if item.handshake else "no handshake"
        issues.append(ScanIssue("no_certificate", f"certificate not obtained: {error}", ep.where()))
    if item.handshake is not None and item.handshake.http is not None:
        findings.evaluate_hsts(ep, item.handshake.http.values("strict-transport-security"), out)
    return out


def _summary(item: _EndpointRun) -> dict[str, Any]:
    scan, shake = item.protocols, item.handshake
    weak = sorted({s for suites in scan.accepted.values() for s in suites if weaknesses(s)})
    hsts = None
    if shake is not None and shake.http is not None:
        values = shake.http.values("strict-transport-security")
        hsts = {"header": values[0] if values else None, "max_age": findings.parse_hsts(values)}
    return {
        "protocols": list(scan.accepted), "refused_protocols": scan.rejected, "cipher_suites": scan.accepted,
        "weak_cipher_suites": weak,
        "negotiated": {"protocol": shake.protocol, "cipher": shake.cipher} if shake and shake.protocol else None,
        "certificate": item.cert.summary() if item.cert else None, "hsts": hsts,
    }


def _service(item: _EndpointRun) -> ServiceObservation:
    ep = item.endpoint
    is_http = item.handshake is not None and item.handshake.http is not None
    return ServiceObservation(ip=ep.ip, port=ep.port, host=ep.host, service="https" if is_http else None, tls=True,
                              tls_summary=_summary(item), method="probe")


def _hosts(items: list[_EndpointRun]) -> dict[str, str]:
    hosts: dict[str, list[int]] = {}
    for item in items:
        hosts.setdefault(item.endpoint.ip, []).append(item.endpoint.port)
    return {ip: ",".join(str(p) for p in sorted(ports)) for ip, ports in hosts.items()}


def _report(item: _EndpointRun) -> str:
    ep, scan = item.endpoint, item.protocols
    lines = [f"TLS {ep.where()} ({ep.name})"]
    for version in ("SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"):
        state = "accepted" if version in scan.accepted else "refused" if version in scan.rejected else "unknown"
        lines.append(f"  {version:<8} {state}")
        for suite in scan.accepted.get(version, []):
            lines.append(f"    {suite}" + (f"  [weak: {', '.join(sorted(weaknesses(suite)))}]" if weaknesses(suite)
                                           else ""))
    if item.cert is not None:
        c = item.cert
        lines += [f"  certificate subject={c.subject}", f"    issuer={c.issuer}", f"    not_after={c.not_after}",
                  f"    sha256={c.sha256} key={c.key} trusted={c.trusted} host_match={c.host_matches}"]
    return "\n".join(lines)
