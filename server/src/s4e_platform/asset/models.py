"""Assets and their tags (tags are also denormalised on the row for reads; the tag table serves filters)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from s4e_platform.db.base import Base, JSONDoc, Timestamps


class Asset(Timestamps, Base):
    __tablename__ = "asset"
    __table_args__ = (
        UniqueConstraint("workspace_id", "type", "name"),
        Index("ix_asset_ws_created", "workspace_id", "created_at", "id"),
        Index("ix_asset_ws_type", "workspace_id", "type", "created_at"),
        Index("ix_asset_ws_status", "workspace_id", "status", "created_at"),
        Index("ix_asset_ws_crit", "workspace_id", "criticality", "created_at"),
        # type + criticality together (a common console view): the total is counted inside this index.
        Index("ix_asset_ws_type_crit", "workspace_id", "type", "criticality", "created_at"),
        Index("ix_asset_ws_name", "workspace_id", "name"),
        Index("ix_asset_ws_source", "workspace_id", "source", "created_at"),
        Index("ix_asset_ws_zone", "workspace_id", "network_zone", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(2048))
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), default="pending_verification")
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verification: Mapped[dict | None] = mapped_column(JSONDoc)
    verification_token: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    criticality: Mapped[str] = mapped_column(String(16), default="medium")
    tags: Mapped[list] = mapped_column(JSONDoc, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    network_zone: Mapped[str] = mapped_column(String(16), default="external")
    scan_route: Mapped[str] = mapped_column(String(16), default="platform")
    meta: Mapped[dict] = mapped_column("metadata", JSONDoc, default=dict)
    risk_score: Mapped[int] = mapped_column(Integer, default=0)
    security_score: Mapped[int] = mapped_column(Integer, default=100)
    finding_summary: Mapped[dict] = mapped_column(JSONDoc, default=dict)
    service_count: Mapped[int] = mapped_column(Integer, default=0)
    endpoint_count: Mapped[int] = mapped_column(Integer, default=0)
    last_scan_at: Mapped[datetime | None] = mapped_column()
    last_scan_id: Mapped[str | None] = mapped_column(String(30))
    created_by: Mapped[str | None] = mapped_column(String(30))


class AssetTag(Base):
    __tablename__ = "asset_tag"
    __table_args__ = (Index("ix_asset_tag_ws_tag", "workspace_id", "tag", "asset_id"),)
    asset_id: Mapped[str] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(30))
