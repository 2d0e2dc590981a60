"""The transactional outbox. Rows are written with the change; the publisher later assigns `evt_` ids
in commit order, so a reader following ids never skips an event that commits late."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from s4e_platform.db.base import Base, BigSerial, JSONDoc
from s4e_platform.kit.clock import utcnow


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_ws_id", "workspace_id", "id"),
        Index("ix_event_unpublished", "published_at", "seq"),
    )
    seq: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    id: Mapped[str | None] = mapped_column(String(30), unique=True)
    workspace_id: Mapped[str | None] = mapped_column(String(30))
    event: Mapped[str] = mapped_column(String(64))
    asset_id: Mapped[str | None] = mapped_column(String(30))
    actor: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    data: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column()
