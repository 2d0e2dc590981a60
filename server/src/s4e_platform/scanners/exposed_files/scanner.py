"""`exposed_files`: the curated path pack with content matchers and soft-404 calibration (scanning.md 2.1).

Flow: resolve the host and keep an address the scan route allows -> pick the origin (a `url` target names it; a
`domain` tries https:443, then http:80) -> calibrate the soft-404 baseline with random paths -> request every path
of the pack (bounded concurrency, paced by `rate_limit`), match content, suppress what resembles the baseline.

HTTP is our own h11 client (http.py), not httpx. Redirects are followed only while they stay on the scanned origin;
a redirect elsewhere is recorded as the 3xx it is, which never matches. A host that keeps failing (20 errors in a
row) is abandoned: the run is `partial` and only the paths that got an answer count as covered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

from s4e_platform.kit import netsafety
from s4e_platform.scanners.base import (
    EndpointObservation,
    FindingCandidate,
    InvalidTarget,
    Location,
    ScanContext,
    ScanIssue,
    Scanner,
    ScanResult,
    ScanTarget,
    run_until_stopped,
)
from s4e_platform.scanners.exposed_files import soft404
from s4e_platform.scanners.exposed_files.http import HttpClient, HttpError, Origin, Response
from s4e_platform.scanners.exposed_files.options import ExposedFilesOptions, parse, schema
from s4e_platform.scanners.exposed_files.rules import CHECK_IDS, RULES, Probe, Rule, cwe_reference

PHASE = "content_discovery"
MAX_CONNECTIONS = 4
MAX_REDIRECTS = 5
MAX_CONSECUTIVE_ERRORS = 20
REQUEST_TIMEOUT = 10.0
RESOLVE_TIMEOUT = 10.0
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass
class _Run:
    opts: ExposedFilesOptions
    host: str
    base_path: str
    client: HttpClient | None = None
    baseline: soft404.Baseline = field(default_factory=soft404.Baseline)
    covered: list[str] = field(default_factory=list)
    findings: dict[tuple[str, str], FindingCandidate] = field(default_factory=dict)
    endpoints: list[EndpointObservation] = field(default_factory=list)
    issues: list[ScanIssue] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    suppressed: int = 0
    errors: int = 0
    consecutive_errors: int = 0
    done: int = 0
    total: int = 0
    abandoned: bool = False


class ExposedFilesScanner(Scanner):
    id = "exposed_files"
    name = "Exposed files"
    category = "web"
    target_types = ("url", "domain")
    active = True
    version = "1.0.0"
    phase = PHASE
    options_schema = schema(ExposedFilesOptions)

    def validate(self, options: Mapping[str, Any] | None) -> ExposedFilesOptions:
        return parse(ExposedFilesOptions, options)

    async def arun(self, target: ScanTarget, options: Mapping[str, Any] | None, ctx: ScanContext) -> ScanResult:
        opts = self.validate(options)
        host, literal, origins, base_path = _parse_target(target)
        started_at = datetime.now(timezone.utc)
        run = _Run(opts=opts, host=host, base_path=base_path)
        ctx.progress(0.0, "resolving")
        addresses = [literal] if literal is not None else await _resolve(host, run)
        allowed = [a for a in addresses if ctx.address_allowed(a)]
        for addr in addresses:
            if addr not in allowed:
                run.issues.append(ScanIssue("address_not_allowed", f"{addr} is not a public address and not inside "
                                            "the allowed networks of this scan route", str(addr)))
        stopped = False
        if allowed:
            try:
                stopped = await run_until_stopped(self._scan(run, origins, [str(a) for a in allowed[:2]], ctx), ctx)
            finally:
                if run.client is not None:
                    await run.client.aclose()
        ctx.progress(1.0, "finalizing")
        return self._result(run, started_at, stopped)

    async def _scan(self, run: _Run, origins: list[tuple[str, int]], addresses: list[str], ctx: ScanContext) -> None:
        run.client = await _open(run, origins, addresses)
        if run.client is None:
            return
        probes = [(rule, probe, path) for rule in RULES for probe in rule.probes
                  for path in _expand(probe.path, run.host)]
        probes = list({(rule.check_id, path): (rule, probe, path) for rule, probe, path in probes}.values())
        calibration = soft404.calibration_paths(path for _rule, _probe, path in probes)
        run.total = len(calibration) + len(probes)
        await asyncio.gather(*(self._calibrate(run, path, ctx) for path in calibration))
        if len(run.baseline) == 0:
            run.issues.append(ScanIssue("calibration_failed", "no soft-404 baseline could be taken; checks skipped",
                                        run.client.origin.url(run.base_path)))
            return
        await asyncio.gather(*(self._check(run, rule, probe, path, ctx) for rule, probe, path in probes))

    async def _calibrate(self, run: _Run, path: str, ctx: ScanContext) -> None:
        fetched = await _fetch(run, run.base_path + path)
        run.done += 1
        ctx.progress(run.done / max(run.total, 1), PHASE)
        if fetched is not None:
            final, resp = fetched
            run.baseline.add(resp.status, resp.body, final)

    async def _check(self, run: _Run, rule: Rule, probe: Probe, path: str, ctx: ScanContext) -> None:
        target = run.base_path + path
        fetched = None if run.abandoned else await _fetch(run, target, probe.max_bytes)
        run.done += 1
        ctx.progress(run.done / max(run.total, 1), PHASE)
        if fetched is None:
            return
        final, resp = fetched
        url = run.client.origin.url(target)
        run.covered.append(url)
        if resp.status not in probe.statuses:
            return
        match = probe.matcher(resp)
        if match is None:
            return
        if not probe.soft404_exempt and run.baseline.resembles(resp.status, resp.body, final, probe.max_bytes):
            run.suppressed += 1
            run.log.append(f"GET {target} -> {resp.status} {rule.check_id}: resembles the soft-404 baseline")
            return
        run.log.append(f"GET {target} -> {resp.status} {rule.check_id} ({match.name})")
        if (rule.check_id, final) in run.findings:
            return  # two probe paths redirecting to one file: one finding
        run.findings[(rule.check_id, final)] = _finding(run, rule, final, resp, match)
        run.endpoints.append(EndpointObservation(url=run.client.origin.url(final), status_code=resp.status,
                                                 content_type=resp.content_type or None))

    def _result(self, run: _Run, started_at: datetime, stopped: bool) -> ScanResult:
        reached = run.client is not None and len(run.baseline) > 0
        status = "cancelled" if stopped else "failed" if not reached else (
            "partial" if run.errors or run.issues else "completed")
        coverage = {"urls": sorted(set(run.covered)), "checks": list(CHECK_IDS)} if reached and not stopped else {}
        stats = {"requests": run.client.requests if run.client else 0, "paths_checked": len(set(run.covered)),
                 "baseline_statuses": run.baseline.statuses, "soft404_suppressed": run.suppressed,
                 "errors": run.errors, "origin": run.client.origin.url(run.base_path) if run.client else None}
        return ScanResult(scanner=self.id, status=status, started_at=started_at,
                          finished_at=datetime.now(timezone.utc), endpoints=run.endpoints,
                          findings=list(run.findings.values()), issues=run.issues, coverage=coverage, stats=stats,
                          raw_output="\n".join(run.log))


def _parse_target(target: ScanTarget) -> tuple[str, Any, list[tuple[str, int]], str]:
    """(host name, literal address or None, origins to try as (scheme, port), base path ending in '/')."""
    value = target.value.strip() if isinstance(target.value, str) else ""
    if not value or len(value) > netsafety.MAX_URL_LENGTH:
        raise InvalidTarget("invalid_target", "target value must be 1-2048 characters")
    if target.type == "url":
        try:
            parsed = netsafety.parse_url(value)
        except netsafety.UnsafeURL as exc:
            raise InvalidTarget("invalid_target", exc.message) from None
        path = urlsplit(parsed.target).path or "/"
        return parsed.host, parsed.literal, [(parsed.scheme, parsed.port)], path[:path.rfind("/") + 1]
    if target.type == "domain":
        if any(c in value for c in "/@:?#[]\\"):
            raise InvalidTarget("invalid_target", "domain target is not a valid host name")
        try:
            parsed = netsafety.parse_url(f"https://{value}/")
        except netsafety.UnsafeURL:
            raise InvalidTarget("invalid_target", "domain target is not a valid host name") from None
        if parsed.literal is not None:
            raise InvalidTarget("invalid_target", "domain target is an address: use a url target")
        return parsed.host, None, [("https", 443), ("http", 80)], "/"
    raise InvalidTarget("unsupported_target", f"exposed_files does not scan {target.type!r} targets")


async def _resolve(host: str, run: _Run) -> list:
    try:
        return await asyncio.to_thread(netsafety.resolve, host, RESOLVE_TIMEOUT)
    except netsafety.ResolutionFailed as exc:
        run.issues.append(ScanIssue("resolution_failed", str(exc), host))
        return []


async def _open(run: _Run, origins: list[tuple[str, int]], addresses: list[str]) -> HttpClient | None:
    """The first origin (and allowed address) that answers a request for the base path."""
    last: HttpError | None = None
    for scheme, port in origins:
        for address in addresses:
            client = HttpClient(Origin(scheme, run.host, port, address), timeout=REQUEST_TIMEOUT,
                                max_connections=MAX_CONNECTIONS, rate=run.opts.request_rate,
                                headers=run.opts.headers, user_agent=run.opts.user_agent)
            try:
                await client.get(run.base_path, max_bytes=4096)
            except HttpError as exc:
                await client.aclose()
                last = exc
                continue
            return client
    run.issues.append(ScanIssue("unreachable", f"no web server answered: {last}", run.host))
    return None


async def _fetch(run: _Run, target: str, max_bytes: int = 256 * 1024) -> tuple[str, Response] | None:
    """GET `target`, following same-origin redirects; (final path, response), or None after an error."""
    client = run.client
    for _ in range(MAX_REDIRECTS + 1):
        try:
            resp = await client.get(target, max_bytes=max_bytes)
        except HttpError as exc:
            run.errors += 1
            run.consecutive_errors += 1
            run.log.append(f"GET {target} -> error {exc.kind}: {exc}")
            if run.consecutive_errors >= MAX_CONSECUTIVE_ERRORS and not run.abandoned:
                run.abandoned = True
                run.issues.append(ScanIssue("host_abandoned", f"{MAX_CONSECUTIVE_ERRORS} requests in a row failed; "
                                            "remaining paths were not checked", client.origin.url("/")))
            return None
        run.consecutive_errors = 0
        following = _same_origin_redirect(client.origin, target, resp) if run.opts.follow_redirects else None
        if following is None:
            return target, resp
        target = following
    return target, resp


def _same_origin_redirect(origin: Origin, target: str, resp: Response) -> str | None:
    location = resp.header("location")
    if resp.status not in _REDIRECTS or not location:
        return None
    try:
        parts = urlsplit(urljoin(origin.url(target), location.strip()))
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if parts.scheme != origin.scheme or (parts.hostname or "").lower() != origin.host.lower() or port != origin.port:
        return None
    path = parts.path or "/"
    if any(ord(c) < 0x21 or ord(c) > 0x7e for c in path + parts.query):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def _expand(path: str, host: str) -> list[str]:
    if "{host}" not in path and "{label}" not in path:
        return [path]
    if netsafety.parse_url(f"http://{host}/").literal is not None:
        return []  # archives are named after sites, not addresses
    return [path.replace("{host}", host).replace("{label}", host.split(".", 1)[0])]


def _finding(run: _Run, rule: Rule, path: str, resp: Response, match) -> FindingCandidate:
    origin = run.client.origin
    url = origin.url(path)
    evidence = {"matched_at": url, "matcher_name": match.name, "extracted": match.extracted,
                "request": run.client.request_text(path), "response": resp.head_text() + rule.excerpt(resp)}
    return FindingCandidate(
        check_id=rule.check_id, title=rule.title, severity=rule.severity, description=rule.description,
        remediation=rule.remediation, category="exposure", cwe_ids=[f"CWE-{rule.cwe}"],
        references=list(dict.fromkeys([*rule.references, cwe_reference(rule)])), evidence=evidence,
        location=Location(host=origin.host, ip=origin.address, port=origin.port, protocol=origin.scheme, url=url,
                          path=path, method="GET"))
