"""The scanner plugin interface (scanning.md section 2).

A scanner declares its metadata (`id`, `name`, `category`, `target_types`, `active`, `version`, `phase`,
`options_schema`), validates options, and runs against one target, returning observations (services,
technologies, endpoints) and finding candidates. Engines are asyncio code (`arun`); `run` is the sync entry point
workers call. Cancellation is cooperative: `ctx.should_stop()` is polled at least every 0.5 s and the running
work is cancelled, returning what was found so far with `status="cancelled"`.

The orchestration (scan tasks, ingestion, fingerprints) lives elsewhere and consumes these types as plain data:
every dataclass here has `to_dict()` with JSON-ready values.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from s4e_platform.kit import netsafety

Severity = Literal["critical", "high", "medium", "low", "info"]
TargetType = Literal["ip", "network", "domain", "url"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

BANNER_LIMIT = 1024  # api.md 3.1: service banner <= 1 KiB
EVIDENCE_LIMIT = 8192  # api.md 3.3: request/response evidence <= 8 KiB each
STOP_POLL_SECONDS = 0.5


class InvalidOptions(ValueError):
    """Options rejected by a scanner. `details` has the 422 shape: [{path, message, code}] (api.md)."""

    def __init__(self, details: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{d['path']}: {d['message']}" for d in details))
        self.details = details


class InvalidTarget(ValueError):
    """The target cannot be scanned by this scanner (wrong type, malformed, too large)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def clip_text(value: str | None, limit: int) -> str | None:
    """Cut `value` to at most `limit` UTF-8 bytes without splitting a character."""
    if value is None:
        return None
    raw = value.encode("utf-8", "replace")
    if len(raw) <= limit:
        return value
    return raw[:limit].decode("utf-8", "ignore")


@dataclass(frozen=True)
class ScanTarget:
    """One scan task's target: an asset value of a type the scanner accepts."""

    type: TargetType
    value: str
    asset_id: str | None = None
    network_zone: Literal["external", "internal"] = "external"


@dataclass
class ServiceObservation:
    """An open (or filtered) port and what answers on it. `details` holds protocol facts the finding rules read
    (e.g. `auth_required`, `anonymous_login`, `starttls`); `method` says how the service name was decided."""

    ip: str
    port: int
    protocol: str = "tcp"
    state: Literal["open", "closed", "filtered"] = "open"
    host: str | None = None
    service: str | None = None
    product: str | None = None
    version: str | None = None
    cpe: list[str] = field(default_factory=list)
    banner: str | None = None
    tls: bool = False
    tls_summary: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    method: Literal["probe", "port", "nmap"] = "probe"
    source: Literal["scanner", "nmap_import"] = "scanner"

    def __post_init__(self) -> None:
        self.banner = clip_text(self.banner, BANNER_LIMIT)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TechnologyObservation:
    """A product seen on a service (feeds `cve_match`)."""

    name: str
    version: str | None = None
    cpe: str | None = None
    categories: list[str] = field(default_factory=list)
    confidence: int = 100
    ip: str | None = None
    port: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EndpointObservation:
    """A URL seen by a scanner (crawler-style scanners fill these)."""

    url: str
    method: str = "GET"
    status_code: int | None = None
    content_type: str | None = None
    title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DiscoveredAssetObservation:
    """A new asset found while scanning another (subdomain discovery): the orchestration creates it as a child
    of the scanned asset (`parent_id`, `source: discovery`) unless it exists already. `source` says how the name
    was found (`wordlist`, `certificate`, `dns_record`); `details` holds e.g. the CNAME target."""

    type: TargetType
    value: str
    source: str
    addresses: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Location:
    """Where a finding is (api.md 3.3 `location`)."""

    host: str | None = None
    ip: str | None = None
    port: int | None = None
    protocol: str | None = None
    url: str | None = None
    path: str | None = None
    method: str | None = None
    parameter: str | None = None


@dataclass
class FindingCandidate:
    """A finding before ingestion: the orchestration adds asset, scanner and fingerprint (scanning.md 6.2)."""

    check_id: str
    title: str
    severity: Severity
    description: str
    remediation: str
    category: str
    location: Location
    cwe_ids: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    cve_ids: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    discriminator: str = ""

    def __post_init__(self) -> None:
        self.title = self.title[:512]
        for key in ("request", "response", "output"):
            if isinstance(self.evidence.get(key), str):
                self.evidence[key] = clip_text(self.evidence[key], EVIDENCE_LIMIT)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ScanIssue:
    """Something that limited the run without failing it (an address not allowed, a name that did not resolve)."""

    code: str
    message: str
    target: str | None = None


@dataclass
class ScanResult:
    """What one run produced. `status`: completed (everything requested was covered), partial (some addresses
    or ports could not be covered, see `issues`), cancelled (stopped by `ctx.should_stop()`), failed (nothing could
    be scanned). `coverage` records what was probed so auto-resolve (scanning.md 6.5) only resolves findings
    inside it: `{"hosts": {ip: "1-1024,8080"}, "checks": [check ids evaluated]}`."""

    scanner: str
    status: Literal["completed", "partial", "cancelled", "failed"]
    started_at: datetime
    finished_at: datetime
    services: list[ServiceObservation] = field(default_factory=list)
    technologies: list[TechnologyObservation] = field(default_factory=list)
    endpoints: list[EndpointObservation] = field(default_factory=list)
    discovered_assets: list[DiscoveredAssetObservation] = field(default_factory=list)
    asset_metadata: dict[str, Any] = field(default_factory=dict)  # merged into the scanned asset's metadata
    findings: list[FindingCandidate] = field(default_factory=list)
    issues: list[ScanIssue] = field(default_factory=list)
    coverage: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    raw_output: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat()
        return data


@dataclass(frozen=True)
class ProgressUpdate:
    fraction: float  # 0.0-1.0 of this task
    phase: str  # scanning.md 1.1 phase names, e.g. port_scanning, service_detection
    message: str = ""


class ScanContext:
    """What the orchestration hands a running scanner: cancellation, progress, and the address policy.

    `stop_check` may be slow (a database read): it is called from a worker thread at most every 0.5 s.
    `on_progress` is called at most every 0.5 s, plus on every phase change; the fraction never goes back.
    Addresses: platform workers scan public addresses (and `S4E_OUTBOUND_ALLOWLIST`); an agent or an internal scan
    passes its allowed CIDRs in `allowed_networks` (and `allow_public=False` to stay inside them). A domain that
    resolves to a private address is therefore not scanned from the platform, whatever its DNS says."""

    def __init__(self, *, stop_check: Callable[[], bool] | None = None,
                 on_progress: Callable[[ProgressUpdate], None] | None = None,
                 allowed_networks: Iterable[str] = (), allow_public: bool = True) -> None:
        self._stop_check = stop_check
        self._on_progress = on_progress
        self._networks = tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks)
        self._allow_public = allow_public
        self._last_report = 0.0
        self._last_phase = ""
        self._last_fraction = 0.0

    def should_stop(self) -> bool:
        return bool(self._stop_check and self._stop_check())

    def progress(self, fraction: float, phase: str, message: str = "") -> None:
        if self._on_progress is None:
            return
        now = time.monotonic()
        if phase == self._last_phase and now - self._last_report < 0.5 and fraction < 1.0:
            return
        fraction = max(self._last_fraction, min(1.0, round(fraction, 4)))
        self._last_report, self._last_phase, self._last_fraction = now, phase, fraction
        self._on_progress(ProgressUpdate(fraction, phase, message))

    def address_allowed(self, addr: IPAddress) -> bool:
        plain = netsafety.unwrap(addr)
        if any(plain.version == n.version and plain in n for n in self._networks):
            return True
        if not self._allow_public:
            return False
        return netsafety.is_public(addr) or netsafety.Allowlist.current().has_address(addr)


async def run_until_stopped(work: Coroutine[Any, Any, Any], ctx: ScanContext) -> bool:
    """Run `work`, polling `ctx.should_stop()` every 0.5 s; cancel the work when it says stop.
    Returns True when the run was stopped (the work's partial state is the caller's to collect)."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=STOP_POLL_SECONDS)
            if done:
                task.result()
                return False
            if await asyncio.to_thread(ctx.should_stop):
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                return True
    except BaseException:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise


class Scanner(ABC):
    """One scanner of the catalog (scanning.md 2.1)."""

    id: ClassVar[str]
    name: ClassVar[str]
    category: ClassVar[str]
    target_types: ClassVar[tuple[TargetType, ...]]
    active: ClassVar[bool]
    version: ClassVar[str]
    phase: ClassVar[str]
    options_schema: ClassVar[dict[str, Any]]

    def describe(self) -> dict[str, Any]:
        """The catalog entry `GET /scanners` returns."""
        return {"id": self.id, "name": self.name, "category": self.category, "target_types": list(self.target_types),
                "active": self.active, "version": self.version, "phase": self.phase,
                "options_schema": self.options_schema}

    @abstractmethod
    def validate(self, options: Mapping[str, Any] | None) -> Any:
        """Parse this scanner's keys of a scan's `options` (other scanners' keys are ignored).
        Raises InvalidOptions."""

    @abstractmethod
    async def arun(self, target: ScanTarget, options: Mapping[str, Any] | None, ctx: ScanContext) -> ScanResult:
        """Scan `target`. Raises InvalidOptions / InvalidTarget before any traffic is sent."""

    def run(self, target: ScanTarget, options: Mapping[str, Any] | None = None,
            ctx: ScanContext | None = None) -> ScanResult:
        """Sync entry point for worker threads; code already inside an event loop awaits `arun` instead."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.arun(target, options, ctx or ScanContext()))
        raise RuntimeError("Scanner.run() called from a running event loop; await arun() instead")
