"""Scan queries (workspace-scoped, honouring API-key asset restrictions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select, update

from s4e_platform.asset.models import Asset
from s4e_platform.auth.restriction import asset_condition
from s4e_platform.db.repository import ScopedRepository
from s4e_platform.scan.models import PRIORITIES, Scan, ScanTask

SORTS = {"created_at": Scan.created_at, "started_at": Scan.started_at, "finished_at": Scan.finished_at,
         # priority sorts by rank (low < normal < high), not alphabetically
         "priority": case(PRIORITIES, value=Scan.priority, else_=-1)}
TASK_SORTS = {"created_at": ScanTask.created_at, "scanner": ScanTask.scanner, "status": ScanTask.status,
              "started_at": ScanTask.started_at, "finished_at": ScanTask.finished_at}
ESTIMATE_SAMPLE = 100  # the estimate is the median of this many latest completed scans of the type


class ScanRepository(ScopedRepository[Scan]):
    model = Scan

    def restriction_condition(self):
        return asset_condition(self.restriction, Scan.asset_id)

    def filtered(self, *, statuses=None, asset_ids=None, scan_types=None, profile_ids=None, priorities=None,
                 start: datetime | None = None, end: datetime | None = None):
        stmt = self.select()
        if statuses:
            stmt = stmt.where(Scan.status.in_(statuses))
        if asset_ids is not None:
            stmt = stmt.where(Scan.asset_id.in_(asset_ids))
        if scan_types:
            stmt = stmt.where(Scan.scan_type.in_(scan_types))
        if profile_ids is not None:
            stmt = stmt.where(Scan.profile_id.in_(profile_ids))
        if priorities:
            stmt = stmt.where(Scan.priority.in_(priorities))
        if start is not None:
            stmt = stmt.where(Scan.created_at >= start)
        if end is not None:
            stmt = stmt.where(Scan.created_at < end)
        return stmt

    def assets(self, ids: set[str]) -> dict[str, Asset]:
        if not ids:
            return {}
        rows = self.session.execute(select(Asset).where(Asset.workspace_id == self.workspace_id,
                                                        Asset.id.in_(sorted(ids)))).scalars()
        return {a.id: a for a in rows}

    def durations(self, scan_type: str) -> list[tuple[str, float]]:
        """(scan id, seconds) of the latest completed scans of a type, newest first."""
        stmt = (select(Scan.id, Scan.started_at, Scan.finished_at)
                .where(Scan.workspace_id == self.workspace_id, Scan.scan_type == scan_type,
                       Scan.status == "completed", Scan.started_at.is_not(None), Scan.finished_at.is_not(None))
                .order_by(Scan.finished_at.desc()).limit(ESTIMATE_SAMPLE + 1))
        return [(sid, max(0.0, (end - start).total_seconds())) for sid, start, end in self.session.execute(stmt)]

    # Tasks ------------------------------------------------------------------------------------------------

    def tasks(self, scan_id: str, *, statuses=None, scanners=None):
        stmt = select(ScanTask).where(ScanTask.workspace_id == self.workspace_id, ScanTask.scan_id == scan_id)
        if statuses:
            stmt = stmt.where(ScanTask.status.in_(statuses))
        if scanners:
            stmt = stmt.where(ScanTask.scanner.in_(scanners))
        return stmt

    def task_ids(self, scan_id: str) -> list[str]:
        """Task ids in creation order (ids are ULIDs minted in creation order)."""
        return list(self.session.execute(select(ScanTask.id).where(
            ScanTask.workspace_id == self.workspace_id, ScanTask.scan_id == scan_id).order_by(
            ScanTask.created_at, ScanTask.id)).scalars())

    def cancel_pending_tasks(self, scan_id: str, at: datetime) -> int:
        """Queued and dispatched tasks end `cancelled`; a running task notices at its next stop check."""
        result = self.session.execute(update(ScanTask).where(
            ScanTask.scan_id == scan_id, ScanTask.status.in_(("queued", "dispatched"))).values(
            status="cancelled", finished_at=at, lease_until=None).execution_options(synchronize_session=False))
        return result.rowcount or 0
