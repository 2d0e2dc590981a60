"""Leases that elect one leader per role (scheduler/publisher) across processes, portable to SQLite."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from s4e_platform.db.base import Base


class LeaderLease(Base):
    __tablename__ = "leader_lease"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column()
