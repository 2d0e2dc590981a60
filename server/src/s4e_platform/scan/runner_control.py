"""What a running task does beside its scanner: renew its lease, write progress, and tell the scanner to stop.

A heartbeat thread renews the lease every third of its length and writes the latest progress at most every
PROGRESS_EVERY seconds (or on a phase change), so database I/O never runs on the scanner's event loop. The
scanner's stop check reads the scan and task rows at most once a second: a cancel, a passed deadline or a lost
claim (the lease lapsed and another run took the task) stops the scanner within the spec's 5 seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from s4e_platform.config import get_settings
from s4e_platform.db.session import after_commit, unit_of_work
from s4e_platform.event import ephemeral
from s4e_platform.kit.clock import as_utc, utcnow
from s4e_platform.scan import progress
from s4e_platform.scan.models import SCAN_TERMINAL, Scan, ScanTask
from s4e_platform.scanners.base import ProgressUpdate

if TYPE_CHECKING:
    from s4e_platform.scan.runner import Claim

log = logging.getLogger("s4e.scan")
PROGRESS_EVERY = 2.0
STOP_READ_EVERY = 1.0


class Control:
    def __init__(self, claim: Claim) -> None:
        self.claim = claim
        self.lease = get_settings().task_lease_seconds
        self.stop_reason: str | None = None
        self._done = threading.Event()
        self._wake = threading.Event()
        self._pending: ProgressUpdate | None = None
        self._written_phase: str | None = None
        self._last_read = 0.0
        self._thread: threading.Thread | None = None

    # The scanner's side ---------------------------------------------------------------------------------------
    def should_stop(self) -> bool:
        if self.stop_reason is not None:
            return True
        deadline = self.claim.deadline_at
        if deadline is not None and utcnow() >= as_utc(deadline):
            self.stop_reason = "scan_timeout"
            return True
        if time.monotonic() - self._last_read >= STOP_READ_EVERY:
            self._last_read = time.monotonic()
            self._read_state()
        return self.stop_reason is not None

    def _read_state(self) -> None:
        try:
            with unit_of_work(readonly=True) as session:
                row = session.execute(select(Scan.status, Scan.cancel_requested_at, Scan.deadline_at,
                                             ScanTask.status.label("task_status"), ScanTask.worker,
                                             ScanTask.attempts)
                                      .join(ScanTask, ScanTask.scan_id == Scan.id)
                                      .where(ScanTask.id == self.claim.task_id)).first()
        except Exception:
            log.warning("stop check of task %s could not read the database", self.claim.task_id, exc_info=True)
            return
        if row is None:
            self.stop_reason = "deleted"
        elif row.status in SCAN_TERMINAL or row.cancel_requested_at is not None:
            self.stop_reason = "scan_" + row.status
        elif row.deadline_at is not None and utcnow() >= as_utc(row.deadline_at):
            self.stop_reason = "scan_timeout"
        elif (row.task_status, row.worker, row.attempts) != ("running", self.claim.worker_id, self.claim.attempt):
            self.stop_reason = "claim_lost"

    def on_progress(self, update_: ProgressUpdate) -> None:
        self._pending = update_
        if update_.phase != self._written_phase:
            self._wake.set()

    # The heartbeat thread -------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._beat, name=f"s4e-lease-{self.claim.task_id[-6:]}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10.0)

    def _beat(self) -> None:
        renew_every = max(1.0, self.lease / 3)
        last_renew = last_progress = time.monotonic()
        while not self._done.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            if self._done.is_set():
                return
            now = time.monotonic()
            pending = self._pending
            write_progress = pending is not None and (
                pending.phase != self._written_phase or now - last_progress >= PROGRESS_EVERY)
            if not write_progress and now - last_renew < renew_every:
                continue
            try:
                self._write(pending if write_progress else None)
            except Exception:
                log.warning("heartbeat of task %s failed", self.claim.task_id, exc_info=True)
                continue
            last_renew = now
            if write_progress:
                last_progress = now
                self._written_phase = pending.phase if pending else None
                if self._pending is pending:
                    self._pending = None

    def _write(self, pending: ProgressUpdate | None) -> None:
        claim = self.claim
        values: dict = {"lease_until": utcnow() + timedelta(seconds=self.lease)}
        if pending is not None:
            values.update(progress=pending.fraction, phase=pending.phase[:32])
        with unit_of_work() as session:
            if pending is not None:
                progress.lock_scan(session, claim.scan_id)  # scan row before task row, like every writer
            result = session.execute(update(ScanTask).where(
                ScanTask.id == claim.task_id, ScanTask.status == "running", ScanTask.worker == claim.worker_id,
                ScanTask.attempts == claim.attempt).values(**values), execution_options={"synchronize_session": False})
            if result.rowcount == 0:
                self.stop_reason = self.stop_reason or "claim_lost"
                return
            if pending is not None:
                scan = progress.refresh(session, claim.scan_id)
                if scan is not None and scan.status == "running":
                    # Values read now: the row expires at commit, before the hook runs.
                    frame = {"scan_id": scan.id, "progress": scan.progress, "phase": scan.current_phase}
                    where = {"workspace_id": scan.workspace_id, "asset_id": scan.asset_id}
                    after_commit(session, lambda: ephemeral.publish(**where, event="scan.progress", data=frame))
