"""Scans and scan tasks (api.md 3.2, scanning.md 1.1). The task row is the job's truth; queues carry ids only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from s4e_platform.db.base import Base, JSONDoc, Timestamps
from s4e_platform.db.scoping import register

SCAN_TYPES = ("full", "quick", "custom", "port", "ssl", "dns", "web", "crawl", "api_discovery")
SCAN_STATUSES = ("queued", "running", "completed", "failed", "cancelled")
SCAN_TERMINAL = ("completed", "failed", "cancelled")
PRIORITIES = {"low": 0, "normal": 1, "high": 2}
# `dispatched`: handed to an executor/queue, not yet picked up; `partial`: the scanner could not cover everything
# (counts as done for the scan, never auto-resolves: scanning.md 6.5).
TASK_STATUSES = ("queued", "dispatched", "running", "completed", "partial", "failed", "cancelled")
TASK_TERMINAL = ("completed", "partial", "failed", "cancelled")
TASK_MAX_ATTEMPTS = 3


class Scan(Timestamps, Base):
    __tablename__ = "scan"
    __table_args__ = (
        Index("ix_scan_ws_created", "workspace_id", "created_at", "id"),
        Index("ix_scan_ws_status", "workspace_id", "status", "created_at"),
        Index("ix_scan_asset_status", "asset_id", "status"),
        Index("ix_scan_profile_status", "profile_id", "status"),
    )
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    asset_id: Mapped[str] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"))
    profile_id: Mapped[str | None] = mapped_column(ForeignKey("scan_profile.id", ondelete="SET NULL"))
    scan_type: Mapped[str] = mapped_column(String(16))
    scanners: Mapped[list] = mapped_column(JSONDoc, default=list)
    options: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    current_phase: Mapped[str | None] = mapped_column(String(32))
    task_summary: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    finding_counts: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    triggered_by: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    rerun_of: Mapped[str | None] = mapped_column(String(30))
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    error: Mapped[dict | None] = mapped_column(JSONDoc)
    agent_ids: Mapped[list] = mapped_column(JSONDoc, default=list)
    # Post-scan actions of the profile evaluated when the scan ended (scanning.md 3).
    post_actions: Mapped[list] = mapped_column(JSONDoc, default=list)
    cancel_requested_at: Mapped[datetime | None] = mapped_column()
    cancelled_by: Mapped[dict | None] = mapped_column(JSONDoc)
    # Set from options.timeout when the first task starts; past it the scan fails with scan_timeout.
    deadline_at: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str | None] = mapped_column(String(30))


class ScanTask(Base):
    __tablename__ = "scan_task"
    __table_args__ = (
        # The release query: runnable tasks by priority, then age.
        Index("ix_scan_task_release", "status", "priority_rank", "created_at"),
        Index("ix_scan_task_scan", "scan_id", "status"),
        Index("ix_scan_task_lease", "status", "lease_until"),
    )
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    scan_id: Mapped[str] = mapped_column(ForeignKey("scan.id", ondelete="CASCADE"))
    asset_id: Mapped[str] = mapped_column(String(30))
    scanner: Mapped[str] = mapped_column(String(64))
    target: Mapped[dict] = mapped_column(JSONDoc, default=dict)  # {type, value}
    route: Mapped[str] = mapped_column(String(16), default="platform")  # platform | agent
    queue: Mapped[str] = mapped_column(String(32), default="scans")
    priority_rank: Mapped[int] = mapped_column(Integer, default=1)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=TASK_MAX_ATTEMPTS)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    phase: Mapped[str | None] = mapped_column(String(32))
    # A running task renews its lease; an expired lease means its worker died and the task is re-run.
    lease_until: Mapped[datetime | None] = mapped_column()
    worker: Mapped[str | None] = mapped_column(String(128))
    agent_id: Mapped[str | None] = mapped_column(String(30))
    error: Mapped[dict | None] = mapped_column(JSONDoc)
    coverage: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    stats: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    finding_counts: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    raw_output: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column()
    dispatched_at: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


register("scn", Scan)
register("tsk", ScanTask)
