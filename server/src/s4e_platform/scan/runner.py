"""Running one scan task (scanning.md 1.1 step 3). Executors (in-process threads, Celery workers) call `run_task`.

Three transactions, none held across the scanner's network work:
1. claim: the task must still be runnable (queued/dispatched, or running with an expired lease); attempts + 1;
   `running` with a lease this worker renews (runner_control.Control) while the scanner runs.
2. the scanner, in this thread (its asyncio loop), stopped cooperatively by `stop_check`.
3. record: observations, findings (upsert by fingerprint), auto-resolve for a `completed` run, the task's result,
   then the scan's aggregate (`progress.refresh`). A run that lost its claim meanwhile records nothing.
A crash puts the task back to `queued` while attempts remain. Re-running after a kill re-does the work from
scratch; the upserts make that harmless (no duplicate findings or services).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from s4e_platform.asset.models import Asset
from s4e_platform.config import get_settings
from s4e_platform.db.session import unit_of_work
from s4e_platform.kit.clock import as_utc, utcnow
from s4e_platform.scan import progress, runner_record
from s4e_platform.scan.models import SCAN_TERMINAL, TASK_TERMINAL, ScanTask
from s4e_platform.scan.runner_control import Control
from s4e_platform.scanners import registry
from s4e_platform.scanners.base import InvalidOptions, InvalidTarget, ScanContext, ScanResult, ScanTarget
from s4e_platform.worker.release import wake_after_commit

log = logging.getLogger("s4e.scan")


@dataclass(frozen=True)
class Claim:
    """What a run needs, read at claim time; `attempt` is the ownership token (with the worker id)."""

    task_id: str
    scan_id: str
    workspace_id: str
    asset_id: str
    scanner: str
    target: dict
    options: dict
    network_zone: str
    attempt: int
    worker_id: str
    deadline_at: datetime | None


@dataclass(frozen=True)
class Outcome:
    """`status` is the task's status afterwards; `exhausted`: failed because its attempts were used up (a Celery
    worker dead-letters that message)."""

    status: str
    exhausted: bool = False


def lock_task(session: Session, task_id: str) -> ScanTask | None:
    stmt = select(ScanTask).where(ScanTask.id == task_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def lock_claimed(session: Session, claim: Claim) -> ScanTask | None:
    """The claimed task, locked after its scan row (every writer of both takes them in that order)."""
    progress.lock_scan(session, claim.scan_id)
    return lock_task(session, claim.task_id)


def owned(task: ScanTask | None, claim: Claim) -> bool:
    return task is not None and task.status == "running" and task.worker == claim.worker_id and \
        task.attempts == claim.attempt


def run_task(task_id: str, *, worker_id: str) -> str:
    """Run the task if it is runnable; returns its status afterwards (a no-op for terminal or held tasks)."""
    return execute(task_id, worker_id=worker_id).status


def execute(task_id: str, *, worker_id: str) -> Outcome:
    claimed = _claim(task_id, worker_id)
    if isinstance(claimed, Outcome):
        return claimed
    control = Control(claimed)
    control.start()
    try:
        result = _run_scanner(claimed, control)
    except (InvalidTarget, InvalidOptions) as exc:
        control.stop()
        code = exc.code if isinstance(exc, InvalidTarget) else "invalid_options"
        return _fail(claimed, {"code": code, "message": str(exc)[:1000]})
    except Exception as exc:
        control.stop()
        log.exception("scanner %s crashed on task %s", claimed.scanner, task_id)
        return _crashed(claimed, exc)
    control.stop()
    try:
        with unit_of_work() as session:
            task = lock_claimed(session, claimed)
            if not owned(task, claimed):  # our lease lapsed and another run took over: its result counts
                return Outcome(task.status if task else "missing")
            runner_record.record(session, task, claimed, result)
            progress.refresh(session, claimed.scan_id)
            return Outcome(task.status)
    except Exception as exc:
        log.exception("recording the result of task %s failed", task_id)
        return _crashed(claimed, exc)


def _claim(task_id: str, worker_id: str) -> Claim | Outcome:
    with unit_of_work() as session:
        # Scan row first, then the task: the order a cancel or a scan-wide change takes (no lock-order deadlock).
        scan_id = session.execute(select(ScanTask.scan_id).where(ScanTask.id == task_id)).scalar_one_or_none()
        scan = progress.lock_scan(session, scan_id) if scan_id else None
        task = lock_task(session, task_id)
        if task is None:
            return Outcome("missing")
        now = utcnow()
        if task.status in TASK_TERMINAL:
            return Outcome(task.status)
        if task.status == "running" and task.lease_until is not None and as_utc(task.lease_until) > now:
            return Outcome("running")  # another worker holds it; a redelivered message is not a second run
        asset = session.get(Asset, task.asset_id)
        if scan is None or asset is None or scan.status in SCAN_TERMINAL:
            _close(task, "cancelled", now)
            return Outcome("cancelled")
        if task.attempts >= task.max_attempts:
            last = (task.error or {}).get("message") or "the worker stopped"
            _close(task, "failed", now, {"code": "attempts_exhausted",
                                         "message": f"gave up after {task.attempts} attempts; last: {last}"[:1000]})
            progress.refresh(session, scan.id, now=now)
            return Outcome("failed", exhausted=True)
        task.attempts += 1
        task.status, task.worker, task.progress = "running", worker_id, 0.0
        task.lease_until = now + timedelta(seconds=get_settings().task_lease_seconds)
        task.started_at = task.started_at or now
        scanner = registry.get(task.scanner)
        task.phase = scanner.phase if scanner else None
        progress.refresh(session, scan.id, now=now)
        return Claim(task_id=task.id, scan_id=scan.id, workspace_id=task.workspace_id, asset_id=asset.id,
                     scanner=task.scanner, target=dict(task.target or {}), options=dict(scan.options or {}),
                     network_zone=asset.network_zone or "external", attempt=task.attempts, worker_id=worker_id,
                     deadline_at=scan.deadline_at)


def _close(task: ScanTask, status: str, now: datetime, error: dict | None = None) -> None:
    task.status, task.finished_at, task.lease_until = status, now, None
    if error is not None:
        task.error = error


def _run_scanner(claim: Claim, control: Control) -> ScanResult:
    scanner = registry.get(claim.scanner)
    if scanner is None:
        raise InvalidTarget("unknown_scanner", f"scanner {claim.scanner!r} is not installed on this worker")
    if claim.target.get("type") not in scanner.target_types:
        raise InvalidTarget("unsupported_target", f"{claim.scanner} cannot scan a {claim.target.get('type')}")
    target = ScanTarget(type=claim.target["type"], value=str(claim.target.get("value", "")),
                        asset_id=claim.asset_id, network_zone=claim.network_zone)
    # Platform workers: public addresses plus S4E_OUTBOUND_ALLOWLIST (ScanContext.address_allowed reads it).
    ctx = ScanContext(stop_check=control.should_stop, on_progress=control.on_progress)
    return scanner.run(target, claim.options, ctx)


def _fail(claim: Claim, error: dict) -> Outcome:
    """A run that can never succeed (bad target or options): failed now, no retry."""
    with unit_of_work() as session:
        task = lock_claimed(session, claim)
        if not owned(task, claim):
            return Outcome(task.status if task else "missing")
        _close(task, "failed", utcnow(), error)
        progress.refresh(session, claim.scan_id)
        return Outcome("failed")


def _crashed(claim: Claim, exc: BaseException) -> Outcome:
    """A crash (scanner bug, lost database): back to `queued` while attempts remain, else failed."""
    error = {"code": "worker_error", "message": f"{type(exc).__name__}: {exc}"[:1000]}
    try:
        with unit_of_work() as session:
            task = lock_claimed(session, claim)
            if not owned(task, claim):
                return Outcome(task.status if task else "missing")
            if task.attempts < task.max_attempts:
                task.status, task.lease_until, task.worker, task.error = "queued", None, None, error
                task.dispatched_at, task.progress, task.phase = None, 0.0, None
                wake_after_commit(session)
                progress.refresh(session, claim.scan_id)
                return Outcome("queued")
            error = {"code": "attempts_exhausted",
                     "message": f"gave up after {task.attempts} attempts; last: {error['message']}"[:1000]}
            _close(task, "failed", utcnow(), error)
            progress.refresh(session, claim.scan_id)
            return Outcome("failed", exhausted=True)
    except Exception:
        # The database itself is gone: the lease lapses and recovery requeues the task.
        log.exception("could not record the crash of task %s", claim.task_id)
        return Outcome("running")
