"""Services observed on assets (api.md 3.1 `Service`): one row per (asset, ip, protocol, port)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from s4e_platform.db.base import Base, JSONDoc
from s4e_platform.db.scoping import register


class Service(Base):
    __tablename__ = "service"
    __table_args__ = (
        UniqueConstraint("asset_id", "ip", "protocol", "port"),
        Index("ix_service_ws_port", "workspace_id", "port", "id"),
        Index("ix_service_ws_seen", "workspace_id", "last_seen_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    asset_id: Mapped[str] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"))
    ip: Mapped[str] = mapped_column(String(64))
    host: Mapped[str | None] = mapped_column(String(2048))
    port: Mapped[int] = mapped_column(Integer)
    protocol: Mapped[str] = mapped_column(String(8), default="tcp")
    state: Mapped[str] = mapped_column(String(16), default="open")
    service: Mapped[str | None] = mapped_column(String(64))
    product: Mapped[str | None] = mapped_column(String(256))
    version: Mapped[str | None] = mapped_column(String(128))
    cpe: Mapped[list] = mapped_column(JSONDoc, default=list)
    banner: Mapped[str | None] = mapped_column(Text)
    tls: Mapped[bool] = mapped_column(Boolean, default=False)
    tls_summary: Mapped[dict | None] = mapped_column(JSONDoc)
    details: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    source: Mapped[str] = mapped_column(String(16), default="scanner")
    first_seen_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column()
    last_scan_id: Mapped[str | None] = mapped_column(String(30))


register("svc", Service)
