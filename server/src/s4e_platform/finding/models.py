"""Findings, their sightings, status history and comments (scanning.md 6.1, api.md 3.3)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from s4e_platform.db.base import Base, BigSerial, JSONDoc, Timestamps
from s4e_platform.db.scoping import register
from s4e_platform.kit.clock import utcnow

SEVERITIES = ("critical", "high", "medium", "low", "info")
STATUSES = ("open", "confirmed", "in_progress", "resolved", "reopened", "false_positive", "accepted_risk")
# Statuses a scan may still resolve and that count towards scores and summaries.
ACTIVE_STATUSES = ("open", "confirmed", "in_progress", "reopened")
FINGERPRINT_VERSION = 1
EVIDENCE_KEPT = 100  # sightings per finding whose evidence is kept (6.3)


class Finding(Timestamps, Base):
    __tablename__ = "finding"
    __table_args__ = (
        UniqueConstraint("workspace_id", "fingerprint"),
        Index("ix_finding_ws_status_sev", "workspace_id", "status", "severity"),
        Index("ix_finding_ws_asset", "workspace_id", "asset_id"),
        Index("ix_finding_ws_discovered", "workspace_id", "discovered_at", "id"),
        # Covers the default list (every status but false_positive, newest first): OFFSET walks stay in the index.
        Index("ix_finding_ws_discovered_status", "workspace_id", "discovered_at", "id", "status"),
        Index("ix_finding_asset_scanner", "asset_id", "scanner", "status"),
    )
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    fingerprint_version: Mapped[int] = mapped_column(Integer, default=FINGERPRINT_VERSION)
    asset_id: Mapped[str] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"))
    service_id: Mapped[str | None] = mapped_column(String(30))
    endpoint_id: Mapped[str | None] = mapped_column(String(30))
    location: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    scanner: Mapped[str] = mapped_column(String(64))
    check_id: Mapped[str] = mapped_column(String(256))
    title: Mapped[str] = mapped_column(String(512))
    description: Mapped[str] = mapped_column(Text, default="")
    remediation: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(64))
    references: Mapped[list] = mapped_column(JSONDoc, default=list)
    cve_ids: Mapped[list] = mapped_column(JSONDoc, default=list)
    cwe_ids: Mapped[list] = mapped_column(JSONDoc, default=list)
    severity: Mapped[str] = mapped_column(String(16))
    original_severity: Mapped[str] = mapped_column(String(16))
    severity_reason: Mapped[str | None] = mapped_column(String(2000))
    severity_override: Mapped[str | None] = mapped_column(String(16))
    cvss: Mapped[float | None] = mapped_column(Float)
    cvss_vector: Mapped[str | None] = mapped_column(String(256))
    cvss_version: Mapped[str | None] = mapped_column(String(8))
    kev: Mapped[bool] = mapped_column(Boolean, default=False)
    kev_date_added: Mapped[date | None] = mapped_column(Date)
    epss: Mapped[float | None] = mapped_column(Float)
    epss_percentile: Mapped[float | None] = mapped_column(Float)
    risk_score: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")
    justification: Mapped[str | None] = mapped_column(Text)
    accepted_until: Mapped[datetime | None] = mapped_column()
    resolution: Mapped[str | None] = mapped_column(String(8))
    assignee_id: Mapped[str | None] = mapped_column(String(30))
    due_date: Mapped[date | None] = mapped_column(Date)
    sla_due_at: Mapped[datetime | None] = mapped_column()
    # Seconds of SLA left when the clock paused (false_positive / accepted_risk); resumes from it (6.7).
    sla_paused_remaining: Mapped[int | None] = mapped_column(Integer)
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[list] = mapped_column(JSONDoc, default=list)
    tickets: Mapped[list] = mapped_column(JSONDoc, default=list)
    scan_id: Mapped[str | None] = mapped_column(String(30))
    last_scan_id: Mapped[str | None] = mapped_column(String(30))
    discovered_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sighting_count: Mapped[int] = mapped_column(Integer, default=1)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    evidence: Mapped[dict] = mapped_column(JSONDoc, default=dict)


class FindingSighting(Base):
    __tablename__ = "finding_sighting"
    __table_args__ = (Index("ix_finding_sighting_finding", "finding_id", "id"),
                      Index("ix_finding_sighting_task", "task_id", "finding_id"))
    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    finding_id: Mapped[str] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"))
    scan_id: Mapped[str | None] = mapped_column(String(30))
    task_id: Mapped[str | None] = mapped_column(String(30))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Null once the sighting falls out of the latest EVIDENCE_KEPT of its finding.
    evidence: Mapped[dict | None] = mapped_column(JSONDoc)


class FindingHistory(Base):
    __tablename__ = "finding_history"
    __table_args__ = (Index("ix_finding_history_finding", "finding_id", "id"),)
    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    finding_id: Mapped[str] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"))
    actor: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    field: Mapped[str] = mapped_column(String(32))
    from_value: Mapped[str | None] = mapped_column(String(2048))
    to_value: Mapped[str | None] = mapped_column(String(2048))
    justification: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class FindingComment(Timestamps, Base):
    __tablename__ = "finding_comment"
    __table_args__ = (Index("ix_finding_comment_finding", "finding_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    finding_id: Mapped[str] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"))
    author: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    body: Mapped[str] = mapped_column(Text)


register("fnd", Finding)
register("cmt", FindingComment)
