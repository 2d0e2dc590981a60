"""`http_headers`: security headers, cookie flags, CORS, version disclosure, directory listing, TRACE and the
HTTP -> HTTPS redirect (scanning.md 2.1).

Requests per target, about ten: the target page (and its redirects on the same host), the plain-HTTP twin of an
https site, two CORS probes (an invented origin and `null`), one TRACE, and up to five directories the page links
to (asset directories are where generated indexes usually hide). All go to the one address the scan policy
allowed, paced by `rate_limit`. HSTS is judged by the `tls` scanner, which owns it in the catalogue.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

from s4e_platform.kit import netsafety
from s4e_platform.scanners.base import (
    EndpointObservation,
    InvalidTarget,
    ScanContext,
    ScanIssue,
    Scanner,
    ScanResult,
    ScanTarget,
    run_until_stopped,
)
from s4e_platform.scanners.http_headers import rules
from s4e_platform.scanners.http_headers.client import FetchError, Origin, Response, fetch
from s4e_platform.scanners.http_headers.options import HttpHeadersOptions, options_schema, validate_options
from s4e_platform.scanners.tls.target import TargetSpec, parse_target, pick_address

MAX_REDIRECTS = 5
MAX_DIRECTORIES = 5
_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"'#?\s]{1,512})""", re.I)


class _Pacer:
    """At most `rate` requests per second to the host."""

    def __init__(self, rate: float) -> None:
        self.interval, self.next_at = 1.0 / rate, 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            delay = self.next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.next_at = max(time.monotonic(), self.next_at) + self.interval


@dataclass
class _Run:
    spec: TargetSpec
    options: HttpHeadersOptions
    ip: str = ""
    pacer: _Pacer | None = None
    base_url: str | None = None
    responses: list[Response] = field(default_factory=list)
    found: rules.Found = field(default_factory=rules.Found)
    tested_urls: list[str] = field(default_factory=list)
    issues: list[ScanIssue] = field(default_factory=list)

    async def get(self, url: str, method: str = "GET", headers: tuple[tuple[str, str], ...] = ()) -> Response:
        await self.pacer.wait()
        target = netsafety.parse_url(url).target
        extra = [("User-Agent", self.options.user_agent), ("Accept", "*/*"), *self.options.headers.items(), *headers]
        response = await fetch(Origin.of(url, self.ip), method, target, extra,
                               timeout=self.options.http_timeout_ms / 1000)
        self.responses.append(response)
        return response


class HttpHeadersScanner(Scanner):
    id = "http_headers"
    name = "HTTP security headers and misconfiguration"
    category = "web"
    target_types = ("url", "domain")
    active = True
    version = "1.0.0"
    phase = "web_vulnerability_checks"
    options_schema = options_schema()

    def validate(self, options: Mapping[str, Any] | None) -> HttpHeadersOptions:
        return validate_options(options)

    async def arun(self, target: ScanTarget, options: Mapping[str, Any] | None, ctx: ScanContext) -> ScanResult:
        opts = self.validate(options)
        if target.type not in self.target_types:
            raise InvalidTarget("unsupported_target", f"{self.id} does not scan {target.type!r} targets")
        run = _Run(spec=parse_target(target, self.id), options=opts, pacer=_Pacer(opts.rate_limit))
        started_at = datetime.now(timezone.utc)
        ctx.progress(0.0, "resolving")
        address = await pick_address(run.spec, ctx, run.issues)
        stopped = False
        if address is not None:
            run.ip = str(address)
            stopped = await run_until_stopped(self._scan(run, ctx), ctx)
        ctx.progress(1.0, "finalizing")
        return _result(self.id, run, started_at, stopped)

    async def _scan(self, run: _Run, ctx: ScanContext) -> None:
        ctx.progress(0.1, "web_vulnerability_checks")
        spec = run.spec
        bases = [spec.url.url] if spec.url is not None else [f"https://{spec.host}/", f"http://{spec.host}/"]
        chain: list[Response] = []
        for base in bases:
            try:
                chain = await self._follow(run, base)
                run.base_url = base
                break
            except FetchError as exc:
                run.issues.append(ScanIssue("unreachable", str(exc), base))
        if not chain:
            return
        run.issues = [i for i in run.issues if i.code != "unreachable"]  # a fallback base answered
        run.tested_urls.append(run.base_url)
        base, final = run.base_url, chain[-1]
        rules.security_headers(final, base, run.found)
        rules.cookies(chain, base, run.found)
        ctx.progress(0.4, "web_vulnerability_checks")
        await asyncio.gather(self._redirect(run, chain), self._cors(run, final), self._trace(run, final),
                             self._listings(run, final))
        rules.disclosure(run.responses, base, run.found)

    async def _follow(self, run: _Run, url: str) -> list[Response]:
        chain = [await run.get(url)]
        while run.options.follow_redirects and chain[-1].status in (301, 302, 303, 307, 308) and \
                len(chain) <= MAX_REDIRECTS:
            location = chain[-1].header("location")
            if not location:
                break
            next_url = urljoin(chain[-1].url, location.strip())
            parts = urlsplit(next_url)
            if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() != \
                    (urlsplit(url).hostname or "").lower():
                run.issues.append(ScanIssue("redirect_out_of_scope", f"{chain[-1].url} redirects to "
                                            f"{next_url[:300]}; checks use the last in-scope response", url))
                break
            try:
                chain.append(await run.get(next_url))
            except (FetchError, netsafety.UnsafeURL) as exc:
                run.issues.append(ScanIssue("redirect_failed", str(exc)[:300], next_url[:300]))
                break
        return chain

    async def _redirect(self, run: _Run, chain: list[Response]) -> None:
        base = urlsplit(run.base_url)
        if base.scheme == "http":
            rules.https_redirect(chain[0], run.base_url, run.found)
            return
        if base.port not in (None, 443):
            return  # the plain-HTTP twin of a non-standard https port is unknown
        plain = f"http://{base.netloc}/"
        try:
            response = await run.get(plain)
        except FetchError as exc:
            if exc.kind == "refused":
                run.found.checks.add("http_no_https_redirect")  # no plain-HTTP listener: nothing to redirect
            return
        rules.https_redirect(response, run.base_url, run.found)

    async def _cors(self, run: _Run, final: Response) -> None:
        origin = f"https://s4e-{secrets.token_hex(4)}.example.com"
        try:
            probe = await run.get(final.url, headers=(("Origin", origin),))
            null_probe = await run.get(final.url, headers=(("Origin", "null"),))
        except FetchError as exc:
            run.issues.append(ScanIssue("probe_failed", f"CORS probe: {exc}", final.url))
            return
        rules.cors(probe, null_probe, origin, run.base_url, run.found)

    async def _trace(self, run: _Run, final: Response) -> None:
        marker = secrets.token_hex(8)
        try:
            response = await run.get(final.url, "TRACE", headers=(("X-S4E-Trace", marker),))
        except FetchError as exc:
            if exc.kind in ("closed", "protocol"):
                run.found.checks.add("http_trace_enabled")  # the server cut the connection: TRACE not served
            return
        rules.trace(response, marker, run.base_url, run.found)

    async def _listings(self, run: _Run, final: Response) -> None:
        run.found.checks.add("http_directory_listing")
        rules.directory_listing(final, run.base_url, run.found)
        for directory in _linked_directories(final):
            try:
                response = await run.get(directory)
            except (FetchError, netsafety.UnsafeURL):
                continue
            run.tested_urls.append(directory)
            rules.directory_listing(response, run.base_url, run.found)


def _linked_directories(page: Response) -> list[str]:
    """Same-origin directories of the page's links (`/static/app.js` -> `/static/`), at most five."""
    if not rules.is_html(page):
        return []
    here = urlsplit(page.url)
    out: list[str] = []
    for link in _LINK.findall(page.text[:262144]):
        parts = urlsplit(urljoin(page.url, link))
        if (parts.scheme, parts.netloc) != (here.scheme, here.netloc) or "/" not in parts.path[1:]:
            continue
        directory = f"{parts.scheme}://{parts.netloc}{parts.path.rsplit('/', 1)[0]}/"
        if directory != f"{here.scheme}://{here.netloc}{here.path}" and directory not in out:
            out.append(directory)
        if len(out) >= MAX_DIRECTORIES:
            break
    return out


def _result(scanner_id: str, run: _Run, started_at: datetime, stopped: bool) -> ScanResult:
    answered = run.base_url is not None and run.responses
    status = "cancelled" if stopped else "failed" if not answered else "partial" if run.issues else "completed"
    endpoints = [EndpointObservation(url=r.url, method=r.method, status_code=r.status,
                                     content_type=r.header("content-type")) for r in run.responses]
    coverage = {"urls": run.tested_urls, "checks": sorted(run.found.checks)} \
        if status in ("completed", "partial") else {}
    raw = "\n".join(f"{r.method} {r.url} -> {r.status}" for r in run.responses)
    return ScanResult(scanner=scanner_id, status=status, started_at=started_at, finished_at=datetime.now(timezone.utc),
                      endpoints=endpoints, findings=run.found.findings, issues=run.issues, coverage=coverage,
                      stats={"requests": len(run.responses)}, raw_output=raw)
