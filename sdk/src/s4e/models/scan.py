"""Scans, their status and tasks, and the raw output lines (api.md 2.4, 3.2; scanning.md 1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Optional

from pydantic import Field

from s4e.models._base import RequestModel, S4EModel

ScanType = Literal["full", "quick", "custom", "port", "ssl", "dns", "web", "crawl", "api_discovery"]
Priority = Literal["low", "normal", "high"]
ScanStatusValue = Literal["queued", "running", "completed", "failed", "cancelled"]
ScanSort = Literal["created_at", "started_at", "finished_at", "priority"]
TaskSort = Literal["created_at", "scanner", "status", "started_at", "finished_at"]
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
"""Statuses a scan never leaves."""


class ScanCreate(RequestModel):
    """Body of `POST /scans`."""

    asset_id: str
    """`ast_` id of the asset to scan (one scan = one asset)."""
    scan_type: ScanType
    """Which scanners run: full, quick, custom, port, ssl, dns, web, crawl or api_discovery."""
    scanners: Optional[list[str]] = None
    """Scanner ids, for `custom` scans only (or give `options.categories`)."""
    options: Optional[dict[str, Any]] = None
    """Scan options (ports, timeout, rate_limit ...), validated by each selected scanner."""
    priority: Optional[Priority] = None
    """Release order of the tasks (default `normal`)."""
    callback_url: Optional[str] = None
    """Reserved: the server refuses it (422 not_supported) until scan call-backs exist; use a webhook."""


class AssetRef(S4EModel):
    """The scanned asset, in brief."""

    id: str
    """`ast_` id."""
    name: str
    """Normalised asset name."""
    type: str
    """domain, ip, network or url."""


class TaskSummary(S4EModel):
    """How many of a scan's tasks are in each state."""

    total: int = 0
    """All tasks."""
    queued: int = 0
    """Waiting to start (queued or handed to a worker)."""
    running: int = 0
    """Running now."""
    completed: int = 0
    """Finished (completed or partial)."""
    failed: int = 0
    """Failed after their attempts."""
    cancelled: int = 0
    """Cancelled."""


class FindingCounts(S4EModel):
    """Findings the scan produced."""

    new: int = 0
    """New findings."""
    reopened: int = 0
    """Resolved findings seen again."""
    resolved: int = 0
    """Findings auto-resolved because a completed task no longer saw them."""
    seen: int = 0
    """Known findings seen again."""
    by_severity: dict[str, int] = Field(default_factory=dict)
    """Counts by severity: critical, high, medium, low, info."""


class TriggeredBy(S4EModel):
    """What started a scan."""

    type: str
    """user, api_key, oauth_client, schedule, playbook, discovery or rerun."""
    id: Optional[str] = None
    """Id of the trigger: the credential, profile, run, or the scan a rerun repeats."""


class ScanError(S4EModel):
    """Why a scan failed."""

    code: str
    """Machine-readable reason, e.g. `scan_timeout`."""
    message: str
    """Human-readable explanation."""


class Scan(S4EModel):
    """A scan of one asset: its scanners, options, status and results summary."""

    id: str
    """`scn_` id."""
    asset_id: str
    """`ast_` id of the scanned asset."""
    asset: AssetRef
    """The scanned asset's id, name and type."""
    profile_id: Optional[str] = None
    """`prf_` id when a scan profile started it."""
    scan_type: str
    """Scan type."""
    scanners: list[str] = Field(default_factory=list)
    """Scanners that run (resolved from the type)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Scan options, with the defaults the type implies."""
    priority: str
    """low, normal or high."""
    status: str
    """queued, running, completed, failed or cancelled."""
    progress: int = 0
    """0-100, weighted over the tasks."""
    current_phase: Optional[str] = None
    """Phase of the oldest running task (port_scanning, tls_checks ...)."""
    task_summary: TaskSummary = Field(default_factory=TaskSummary)
    """Tasks per state."""
    finding_counts: FindingCounts = Field(default_factory=FindingCounts)
    """Findings new, reopened, resolved and seen."""
    triggered_by: TriggeredBy
    """What started the scan."""
    rerun_of: Optional[str] = None
    """The scan this one repeats."""
    callback_url: Optional[str] = None
    """URL receiving the completion event."""
    estimated_duration_minutes: Optional[int] = None
    """Median duration of earlier completed scans of this type (None without history)."""
    error: Optional[ScanError] = None
    """Why it failed."""
    agent_ids: list[str] = Field(default_factory=list)
    """Agents that ran tasks."""
    created_by: Optional[str] = None
    """`usr_` id of the member who created it."""
    cancelled_by: Optional[dict[str, Any]] = None
    """Who cancelled it: `{type, id, name}`."""
    created_at: datetime
    """When it was created."""
    started_at: Optional[datetime] = None
    """When the first task started."""
    finished_at: Optional[datetime] = None
    """When it ended."""
    duration_seconds: Optional[int] = None
    """Run time so far (or in total once finished)."""

    @property
    def is_terminal(self) -> bool:
        """Whether the scan has ended (completed, failed or cancelled)."""
        return self.status in TERMINAL_STATUSES


class ScanStatus(S4EModel):
    """The polling view of a scan (`GET /scans/{id}/status`)."""

    scan_id: str
    """`scn_` id."""
    status: str
    """queued, running, completed, failed or cancelled."""
    progress: int = 0
    """0-100."""
    current_phase: Optional[str] = None
    """Phase of the oldest running task."""
    task_summary: TaskSummary = Field(default_factory=TaskSummary)
    """Tasks per state."""

    @property
    def is_terminal(self) -> bool:
        """Whether the scan has ended (completed, failed or cancelled)."""
        return self.status in TERMINAL_STATUSES


class ScanTask(S4EModel):
    """One scanner run against one target of a scan."""

    id: str
    """`tsk_` id."""
    scan_id: str
    """The scan it belongs to."""
    scanner: str
    """Scanner id."""
    target: dict[str, Any] = Field(default_factory=dict)
    """`{type, value}`: a network asset is split into CIDR chunks of at most 256 addresses."""
    status: str
    """queued, dispatched, running, completed, partial, failed or cancelled."""
    route: str
    """platform (S4E workers) or agent."""
    agent_id: Optional[str] = None
    """Agent that ran it."""
    attempts: int = 0
    """Attempts so far (3 at most)."""
    progress: float = 0.0
    """0.0-1.0."""
    phase: Optional[str] = None
    """Current phase."""
    error: Optional[dict[str, Any]] = None
    """Why it failed: `{code, message}`."""
    finding_counts: dict[str, Any] = Field(default_factory=dict)
    """Findings of this task."""
    created_at: datetime
    """When it was created."""
    started_at: Optional[datetime] = None
    """When it started running."""
    finished_at: Optional[datetime] = None
    """When it ended."""


class ScanOutputLine(S4EModel):
    """One line of a scan's raw output. Scanners' JSON lines keep their own keys (template engine lines are
    nuclei-compatible, in `model_extra`); text lines carry the text in `output`."""

    task_id: Optional[str] = None
    """`tsk_` id of the task that wrote it."""
    scanner: Optional[str] = None
    """Scanner id."""
    target: Optional[str] = None
    """Task target (text lines)."""
    output: Optional[str] = None
    """The text of a text line."""


class ImportFindingCounts(S4EModel):
    """Findings an import produced."""

    new: int = 0
    """First detections."""
    reopened: int = 0
    """Resolved findings seen again."""
    seen: int = 0
    """Known findings seen again."""
    resolved: int = 0
    """Always 0: an import never resolves findings."""


class ServiceImport(S4EModel):
    """Result of `assets.import_nmap`: the completed port scan the file was recorded as."""

    scan: Scan
    """The scan (type `port`, one `port_scan` task) holding the imported services and findings."""
    hosts: int
    """Hosts of the file that belong to the asset."""
    skipped_hosts: list[str] = Field(default_factory=list)
    """Addresses in the file that are not part of the asset (not imported)."""
    services: int
    """Ports recorded, any state."""
    open_services: int
    """Open ports recorded."""
    finding_counts: ImportFindingCounts
    """Findings produced by the port scanner's exposure rules."""
