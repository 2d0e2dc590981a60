"""A scan's aggregate state, recomputed from its task rows (scanning.md 1.1).

`refresh` is called in the transaction that changed a task (start, progress, finish, requeue). It locks the scan
row first (PostgreSQL `FOR UPDATE`; SQLite write transactions are exclusive anyway), so two workers finishing
tasks of the same scan at once serialise here and exactly one of them sees "every task terminal" and emits the
final event. A scan that is already terminal keeps its status, progress and events (a cancel or a timeout wins over
late results); only its task summary and finding counts follow tasks that stop afterwards.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from s4e_platform.event import service as events
from s4e_platform.finding.models import SEVERITIES
from s4e_platform.kit.clock import as_utc, utcnow
from s4e_platform.scan.models import SCAN_TERMINAL, TASK_TERMINAL, Scan, ScanTask

log = logging.getLogger("s4e.scan")
SYSTEM_ACTOR = {"type": "system", "id": None, "name": "scanner"}
DEFAULT_TIMEOUT = 3600  # scanning.md 2.2 `timeout`
COUNT_KEYS = ("new", "reopened", "resolved", "seen")


def lock_scan(session: Session, scan_id: str) -> Scan | None:
    """The scan row, locked for this transaction and re-read (never a stale identity-map copy)."""
    stmt = select(Scan).where(Scan.id == scan_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def scan_timeout(scan: Scan) -> int:
    value = (scan.options or {}).get("timeout", DEFAULT_TIMEOUT)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else DEFAULT_TIMEOUT


def summarize(tasks: list[ScanTask]) -> dict:
    """`task_summary`: `dispatched` counts as queued and `partial` as completed (the rows keep the difference)."""
    out = {"total": len(tasks), "queued": 0, "running": 0, "completed": 0, "failed": 0, "cancelled": 0}
    for t in tasks:
        key = {"dispatched": "queued", "partial": "completed"}.get(t.status, t.status)
        out[key] = out.get(key, 0) + 1
    return out


def weighted_progress(tasks: list[ScanTask]) -> int:
    """0-100, weights per scanner; 100 only once every task is terminal."""
    weights = [t.weight if t.weight and t.weight > 0 else 1.0 for t in tasks]
    done = 0.0
    for t, weight in zip(tasks, weights, strict=True):
        part = 1.0 if t.status in TASK_TERMINAL else (t.progress or 0.0) if t.status == "running" else 0.0
        done += weight * min(max(part, 0.0), 1.0)
    value = int(100 * done / (sum(weights) or 1.0))
    if any(t.status not in TASK_TERMINAL for t in tasks):
        value = min(value, 99)
    return value


def current_phase(tasks: list[ScanTask]) -> str | None:
    """The phase of the oldest running task."""
    running = [t for t in tasks if t.status == "running" and t.started_at is not None]
    if not running:
        return None
    oldest = min(running, key=lambda t: (as_utc(t.started_at), t.id))
    return oldest.phase


def finding_counts(tasks: list[ScanTask]) -> dict:
    out: dict = {key: 0 for key in COUNT_KEYS}
    by_severity: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for t in tasks:
        counts = t.finding_counts or {}
        for key in COUNT_KEYS:
            out[key] += int(counts.get(key, 0) or 0)
        for sev, n in (counts.get("by_severity") or {}).items():
            by_severity[sev] = by_severity.get(sev, 0) + int(n or 0)
    out["by_severity"] = by_severity
    return out


def _duration(scan: Scan, now: datetime) -> float:
    start = scan.started_at or scan.created_at
    return round(max((as_utc(now) - as_utc(start)).total_seconds(), 0.0), 3) if start else 0.0


def refresh(session: Session, scan_id: str, *, now: datetime | None = None) -> Scan | None:
    """Recompute progress, phase, summary and counts; start, time out or finish the scan when due."""
    scan = lock_scan(session, scan_id)
    if scan is None:
        return None
    now = now or utcnow()
    tasks = list(session.execute(select(ScanTask).where(ScanTask.scan_id == scan_id)
                                 .execution_options(populate_existing=True)).scalars())
    scan.task_summary = summarize(tasks)
    scan.finding_counts = finding_counts(tasks)
    if scan.status in SCAN_TERMINAL:
        return scan  # a task that stopped after a cancel or timeout updates the counts, never the outcome
    scan.progress = weighted_progress(tasks)
    scan.current_phase = current_phase(tasks)
    if scan.status == "queued":
        _maybe_start(session, scan, tasks, now)
    if scan.status == "running" and scan.deadline_at is not None and as_utc(now) >= as_utc(scan.deadline_at):
        _time_out(session, scan, now)
    elif tasks and all(t.status in TASK_TERMINAL for t in tasks):
        _finish(session, scan, tasks, now)
    return scan


def _maybe_start(session: Session, scan: Scan, tasks: list[ScanTask], now: datetime) -> None:
    starts = [as_utc(t.started_at) for t in tasks if t.started_at is not None]
    if not starts:
        return
    scan.status = "running"
    scan.started_at = min(starts)
    scan.deadline_at = scan.started_at + timedelta(seconds=scan_timeout(scan))
    events.record(session, workspace_id=scan.workspace_id, event="scan.started", actor=SYSTEM_ACTOR,
                  asset_id=scan.asset_id, data={"scan_id": scan.id, "asset_id": scan.asset_id,
                                                "scan_type": scan.scan_type, "task_count": len(tasks)})


def _time_out(session: Session, scan: Scan, now: datetime) -> None:
    """Past `options.timeout`: the scan fails; tasks not started are cancelled, running ones stop at their next
    checkpoint (their stop_check reads the deadline). Findings already ingested are kept."""
    session.execute(update(ScanTask).where(ScanTask.scan_id == scan.id,
                                           ScanTask.status.in_(("queued", "dispatched")))
                    .values(status="cancelled", finished_at=now, lease_until=None))
    error = {"code": "scan_timeout", "message": f"the scan exceeded its timeout of {scan_timeout(scan)} s"}
    _end(session, scan, "failed", now, error=error)


def _finish(session: Session, scan: Scan, tasks: list[ScanTask], now: datetime) -> None:
    if any(t.status in ("completed", "partial") for t in tasks):
        _end(session, scan, "completed", now)
        return
    first = next((t.error for t in tasks if t.status == "failed" and t.error), None)
    error = {"code": (first or {}).get("code") or "tasks_failed",
             "message": (first or {}).get("message") or "no task of the scan completed"}
    _end(session, scan, "failed", now, error=error)


def _end(session: Session, scan: Scan, status: str, now: datetime, *, error: dict | None = None) -> None:
    scan.status, scan.finished_at, scan.error = status, now, error
    scan.current_phase = None
    if status == "completed":
        scan.progress = 100
    counts = {key: scan.finding_counts.get(key, 0) for key in COUNT_KEYS}
    duration = _duration(scan, now)
    if status == "completed":
        data = {"scan_id": scan.id, "asset_id": scan.asset_id, "scan_type": scan.scan_type, "status": status,
                "duration": duration, "finding_count": counts["new"] + counts["reopened"] + counts["seen"],
                "finding_counts": counts}
        events.record(session, workspace_id=scan.workspace_id, event="scan.completed", actor=SYSTEM_ACTOR,
                      asset_id=scan.asset_id, data=data)
    else:
        events.record(session, workspace_id=scan.workspace_id, event="scan.failed", actor=SYSTEM_ACTOR,
                      asset_id=scan.asset_id, data={"scan_id": scan.id, "asset_id": scan.asset_id,
                                                    "scan_type": scan.scan_type, "error": error,
                                                    "duration": duration})
    session.flush()
    if scan.profile_id:
        _post_scan(session, scan)


def _post_scan(session: Session, scan: Scan) -> None:
    """Profile post-scan actions (scanning.md 3), owned by scan_profile (imported late: it imports scan)."""
    from s4e_platform.scan_profile import post_scan

    post_scan.on_scan_finished(session, scan)
