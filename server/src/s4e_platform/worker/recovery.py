"""Recovering tasks whose worker died, and scans whose timeout passed with nothing running to notice it.

- `running` with an expired lease: the worker stopped renewing it (killed, lost its database) -> back to `queued`
  (the attempt stays counted: the runner fails the task once its attempts are used up).
- `dispatched` for longer than the dispatch timeout without starting: the hand-off was lost (an embedded process
  that exited, a publish that never reached the broker) -> `queued`. A duplicate message that still arrives later
  is harmless: the runner's claim lets exactly one run hold the task.
- a running scan past its deadline -> `progress.refresh` fails it with `scan_timeout`.
Called by the release loop every few seconds (leader only).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from s4e_platform.config import get_settings
from s4e_platform.db.session import unit_of_work
from s4e_platform.kit.clock import utcnow
from s4e_platform.scan import progress
from s4e_platform.scan.models import SCAN_TERMINAL, Scan, ScanTask
from s4e_platform.worker.release import wake_after_commit

BATCH = 500


def _stale(now: datetime):
    cutoff = now - timedelta(seconds=get_settings().dispatch_timeout())
    return ((ScanTask.status == "running") & (ScanTask.lease_until < now)) | (
        (ScanTask.status == "dispatched") & (ScanTask.dispatched_at < cutoff))


def _any_due(now: datetime) -> bool:
    with unit_of_work(readonly=True) as session:
        task = session.execute(select(ScanTask.id).where(_stale(now)).limit(1)).first()
        scan = session.execute(select(Scan.id).where(Scan.status == "running", Scan.deadline_at < now)
                               .limit(1)).first()
        return task is not None or scan is not None


def _requeue(session: Session, scan: Scan | None, tasks: list[ScanTask], now: datetime) -> int:
    requeued = 0
    for task in tasks:
        lost = "lease_expired" if task.status == "running" else "dispatch_lost"
        if scan is None or scan.status in SCAN_TERMINAL:
            task.status, task.finished_at = "cancelled", now  # the scan ended meanwhile: do not run it again
        else:
            task.status = "queued"
            requeued += 1
        task.error = {"code": lost, "message": f"worker {task.worker or '?'} stopped before finishing"
                      if lost == "lease_expired" else "the task was handed off but never started"}
        task.lease_until, task.worker, task.dispatched_at = None, None, None
    return requeued


def requeue_expired(now: datetime | None = None) -> int:
    """Requeue lost tasks and time out overdue scans; returns how many tasks went back to `queued`."""
    now = now or utcnow()
    if not _any_due(now):  # idle sweeps never take SQLite's write lock
        return 0
    with unit_of_work() as session:
        stale_scans = set(session.execute(select(ScanTask.scan_id).where(_stale(now)).limit(BATCH)).scalars())
        overdue = set(session.execute(select(Scan.id).where(Scan.status == "running", Scan.deadline_at < now)
                                      .limit(BATCH)).scalars())
        requeued = 0
        for scan_id in sorted(stale_scans | overdue):
            # Scan row first, then its tasks (the lock order of the runner's claim and of a cancel).
            scan = progress.lock_scan(session, scan_id)
            stmt = select(ScanTask).where(ScanTask.scan_id == scan_id, _stale(now))
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            requeued += _requeue(session, scan, list(session.execute(stmt).scalars()), now)
            progress.refresh(session, scan_id, now=now)
        if requeued:
            wake_after_commit(session)
    return requeued
