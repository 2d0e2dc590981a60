"""Scan profiles and their fire log (scanning.md 3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from s4e_platform.db.base import Base, BigSerial, JSONDoc, Timestamps
from s4e_platform.db.scoping import register


class ScanProfile(Timestamps, Base):
    __tablename__ = "scan_profile"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        Index("ix_scan_profile_ws_created", "workspace_id", "created_at", "id"),
        Index("ix_scan_profile_due", "enabled", "next_run_at"),
    )
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    scope: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    scan_type: Mapped[str] = mapped_column(String(16), default="custom")
    scanners: Mapped[list] = mapped_column(JSONDoc, default=list)
    options: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    schedule: Mapped[dict | None] = mapped_column(JSONDoc)
    post_scan_actions: Mapped[list] = mapped_column(JSONDoc, default=list)
    # Next scheduled fire (UTC), maintained by the scheduler and on every profile write; null = not scheduled.
    next_run_at: Mapped[datetime | None] = mapped_column()
    last_run_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str | None] = mapped_column(String(30))


class ScanFire(Base):
    """One scheduled time of a profile, stored before anything is dispatched: the unique key is what makes a
    restarted or duplicated scheduler unable to fire the same time twice."""

    __tablename__ = "scan_fire"
    __table_args__ = (UniqueConstraint("profile_id", "scheduled_at"),)
    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    profile_id: Mapped[str] = mapped_column(ForeignKey("scan_profile.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(String(30))
    scheduled_at: Mapped[datetime] = mapped_column()
    fired_at: Mapped[datetime] = mapped_column()
    # fired | skipped (skip window) | deferred (window, on_skip=defer) | missed (outside the grace) | empty (no asset)
    outcome: Mapped[str] = mapped_column(String(16))
    scan_ids: Mapped[list] = mapped_column(JSONDoc, default=list)
    detail: Mapped[dict] = mapped_column(JSONDoc, default=dict)


register("prf", ScanProfile)
