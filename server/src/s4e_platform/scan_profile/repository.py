"""Scan profile queries (workspace-scoped) and the scheduler's cross-workspace reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from s4e_platform.db.repository import ScopedRepository
from s4e_platform.kit.text import like_escape
from s4e_platform.scan.models import Scan
from s4e_platform.scan_profile.models import ScanFire, ScanProfile

SORTS = {"created_at": ScanProfile.created_at, "name": ScanProfile.name, "next_run_at": ScanProfile.next_run_at,
         "last_run_at": ScanProfile.last_run_at}


class ProfileRepository(ScopedRepository[ScanProfile]):
    model = ScanProfile

    def filtered(self, *, enabled: bool | None = None, search: str | None = None):
        stmt = self.select()
        if enabled is not None:
            stmt = stmt.where(ScanProfile.enabled.is_(enabled))
        if search:
            term = "%" + like_escape(search.lower()) + "%"
            stmt = stmt.where(func.lower(ScanProfile.name).like(term, escape="\\"))
        return stmt

    def by_name(self, name: str) -> ScanProfile | None:
        return self.session.execute(self.select().where(ScanProfile.name == name)).scalar_one_or_none()


def active_scan_assets(session: Session, profile_id: str, asset_ids: list[str]) -> set[str]:
    """Assets among `asset_ids` that already have a queued or running scan of this profile (scanning.md 1.1)."""
    found: set[str] = set()
    for i in range(0, len(asset_ids), 500):
        chunk = asset_ids[i:i + 500]
        found.update(session.execute(select(Scan.asset_id).where(
            Scan.profile_id == profile_id, Scan.status.in_(("queued", "running")),
            Scan.asset_id.in_(chunk))).scalars())
    return found


def due_profile_ids(session: Session, now: datetime, limit: int = 500) -> list[str]:
    """Enabled profiles whose next scheduled moment has come, oldest first (every workspace)."""
    return list(session.execute(select(ScanProfile.id).where(
        ScanProfile.enabled.is_(True), ScanProfile.next_run_at.is_not(None), ScanProfile.next_run_at <= now)
        .order_by(ScanProfile.next_run_at, ScanProfile.id).limit(limit)).scalars())


def fires_of(session: Session, profile_id: str, limit: int = 20) -> list[ScanFire]:
    return list(session.execute(select(ScanFire).where(ScanFire.profile_id == profile_id)
                                .order_by(ScanFire.scheduled_at.desc(), ScanFire.id.desc()).limit(limit)).scalars())
