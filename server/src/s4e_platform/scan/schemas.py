"""Scan request and response shapes (api.md 3.2)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from s4e_platform.kit.schemas import ReadModel, StrictModel, Timestamp

ScanType = Literal["full", "quick", "custom", "port", "ssl", "dns", "web", "crawl", "api_discovery"]
Priority = Literal["low", "normal", "high"]
ScanStatus = Literal["queued", "running", "completed", "failed", "cancelled"]
TaskStatus = Literal["queued", "dispatched", "running", "completed", "partial", "failed", "cancelled"]


class ScanCreate(StrictModel):
    asset_id: str = Field(max_length=64, description="ast_ id of the target asset (one scan = one asset)")
    scan_type: ScanType = Field(description="Which scanners run (scanning.md 1.2)")
    scanners: list[str] | None = Field(None, max_length=64, description="Scanner ids; `custom` scans only "
                                       "(required unless `options.categories` is given)")
    options: dict[str, Any] | None = Field(None, description="Scan options (scanning.md 2.2), validated by "
                                           "each selected scanner")
    priority: Priority = Field("normal", description="Release order of the tasks: priority, then age")
    callback_url: str | None = Field(None, max_length=2048, description="https URL receiving scan.completed / "
                                     "scan.failed")


class AssetRef(BaseModel):
    id: str
    name: str
    type: str


class TaskSummary(BaseModel):
    total: int = 0
    queued: int = 0
    running: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0


class SeverityCounts(BaseModel):
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    info: int = 0


class FindingCounts(BaseModel):
    new: int = 0
    reopened: int = 0
    resolved: int = 0
    seen: int = 0
    by_severity: SeverityCounts = Field(default_factory=SeverityCounts)


class TriggeredBy(BaseModel):
    type: Literal["user", "api_key", "oauth_client", "schedule", "playbook", "discovery", "rerun"]
    id: str | None = None


class ScanError(BaseModel):
    code: str
    message: str


class ScanRead(ReadModel):
    id: str
    asset_id: str
    asset: AssetRef
    profile_id: str | None
    scan_type: ScanType
    scanners: list[str]
    options: dict[str, Any]
    priority: Priority
    status: ScanStatus
    progress: int = Field(ge=0, le=100)
    current_phase: str | None
    task_summary: TaskSummary
    finding_counts: FindingCounts
    triggered_by: TriggeredBy
    rerun_of: str | None
    callback_url: str | None
    estimated_duration_minutes: int | None = Field(description="Median duration of earlier completed scans of "
                                                   "this type in the workspace (null when there is none)")
    error: ScanError | None
    agent_ids: list[str]
    created_by: str | None = Field(description="usr_ id of the member who created it (null for system triggers)")
    cancelled_by: dict[str, Any] | None = Field(description="Actor `{type, id, name}` who cancelled it")
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    duration_seconds: int | None = Field(description="finished (or now, while running) minus started_at")


class ScanStatusRead(BaseModel):
    scan_id: str
    status: ScanStatus
    progress: int
    current_phase: str | None
    task_summary: TaskSummary


class ScanTaskRead(ReadModel):
    id: str
    scan_id: str
    scanner: str
    target: dict[str, Any] = Field(description="`{type, value}`: a network asset's chunk is a CIDR of <= 256 "
                                   "addresses")
    status: TaskStatus
    route: Literal["platform", "agent"]
    agent_id: str | None
    attempts: int
    progress: float = Field(description="0.0-1.0")
    phase: str | None
    error: dict[str, Any] | None
    finding_counts: dict[str, Any]
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
