"""Webhook endpoints and their deliveries (one row per event x endpoint: the row is the job)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from s4e_platform.db.base import Base, JSONDoc, Timestamps
from s4e_platform.kit.clock import utcnow


class Webhook(Timestamps, Base):
    __tablename__ = "webhook"
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list] = mapped_column(JSONDoc, default=list)
    filters: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    headers_enc: Mapped[str | None] = mapped_column(Text)  # encrypted JSON object
    header_names: Mapped[list] = mapped_column(JSONDoc, default=list)
    secret_enc: Mapped[str] = mapped_column(Text)
    previous_secret_enc: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="enabled")
    disabled_reason: Mapped[str | None] = mapped_column(String(16))
    failing_since: Mapped[datetime | None] = mapped_column()
    last_delivery_at: Mapped[datetime | None] = mapped_column()
    last_success_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str | None] = mapped_column(String(30))


class Delivery(Base):
    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("target_id", "event_id"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
        Index("ix_delivery_target", "target_id", "id"),
    )
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(30), index=True)
    target_id: Mapped[str] = mapped_column(String(30))
    event_id: Mapped[str] = mapped_column(String(30))
    event: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    # attempt_count when the current retry round began: a manual redeliver restarts the schedule.
    retry_base: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    # A claimed delivery is leased; a worker killed mid-attempt lets the lease lapse and another retries.
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[list] = mapped_column(JSONDoc, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
