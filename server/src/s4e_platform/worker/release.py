"""Releasing queued scan tasks to an executor (scanning.md 1.1 step 2).

Scan creation calls `wake_after_commit(session)`; the release loop (embedded: a thread of `s4e server up`;
scale-out: the scheduler process) waits on `WAKE` between polls, so tasks start without waiting for the next poll.

One release is one transaction: queued platform tasks by priority then age, honouring the limits (one running scan
per asset, 10 running scans per workspace: the tasks of a scan that may not start yet stay queued), marked
`dispatched`; only after the commit are their ids handed to the sink (the in-process executor or a Celery publish).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, text, true, update
from sqlalchemy.orm import Session

from s4e_platform.db.session import after_commit, unit_of_work
from s4e_platform.kit.clock import utcnow
from s4e_platform.scan.models import SCAN_TERMINAL, Scan, ScanTask
from s4e_platform.workspace.models import Workspace

log = logging.getLogger("s4e.worker")
WAKE = threading.Event()
POLL_INTERVAL = 0.5
BATCH = 500
MAX_RUNNING_SCANS = 10  # per workspace (scanning.md 1.1); workspace setting `max_running_scans` overrides it
_RELEASE_LOCK_KEY = 0x53344552  # "S4ER": PostgreSQL advisory lock serialising releases (the limits need it)


@dataclass(frozen=True)
class Released:
    """A task handed to a sink: the id is all a queue message carries."""

    task_id: str
    queue: str
    priority_rank: int


Sink = Callable[[list[Released]], None]


def wake_after_commit(session: Session) -> None:
    """Signal the release loop once `session` commits (never before: the tasks would not be visible yet)."""
    after_commit(session, WAKE.set)


class _Slots:
    """Which scans hold a running slot, per workspace and per asset; a scan takes one when its first task goes."""

    def __init__(self, session: Session) -> None:
        self.session = session
        # A queued scan holds a slot once one of its tasks is out (dispatched: it is about to start). One index
        # probe per unfinished scan, never a scan of every dispatched task (a broker backlog can be large).
        busy = select(ScanTask.id).where(ScanTask.scan_id == Scan.id,
                                         ScanTask.status.in_(("dispatched", "running"))).exists()
        rows = session.execute(select(Scan.id, Scan.workspace_id, Scan.asset_id).where(
            or_(Scan.status == "running", (Scan.status == "queued") & busy))).all()
        self.active = {r.id for r in rows}
        self.assets = {r.asset_id for r in rows}
        self.per_workspace: dict[str, int] = {}
        for r in rows:
            self.per_workspace[r.workspace_id] = self.per_workspace.get(r.workspace_id, 0) + 1
        self._caps: dict[str, int] = {}

    def _cap(self, workspace_id: str) -> int:
        if workspace_id not in self._caps:
            ws = self.session.get(Workspace, workspace_id)
            value = (ws.settings or {}).get("max_running_scans") if ws is not None else None
            valid = isinstance(value, int) and not isinstance(value, bool) and value > 0
            self._caps[workspace_id] = value if valid else MAX_RUNNING_SCANS
        return self._caps[workspace_id]

    def blocked(self):
        """SQL condition excluding tasks that cannot go now (their asset is busy with another scan, or their
        workspace is full), so waiting scans never crowd runnable ones out of the candidate window."""
        full = [ws for ws, n in self.per_workspace.items() if n >= self._cap(ws)]
        conds = []
        if full:
            conds.append(Scan.workspace_id.in_(full))
        if self.assets:
            conds.append(Scan.asset_id.in_(self.assets))
        if not conds:
            return None
        return and_(or_(*conds), Scan.id.not_in(self.active) if self.active else true(),
                    Scan.status.not_in(SCAN_TERMINAL))

    def admit(self, scan_id: str, workspace_id: str, asset_id: str) -> bool:
        if scan_id in self.active:
            return True
        if asset_id in self.assets or self.per_workspace.get(workspace_id, 0) >= self._cap(workspace_id):
            return False
        self.active.add(scan_id)
        self.assets.add(asset_id)
        self.per_workspace[workspace_id] = self.per_workspace.get(workspace_id, 0) + 1
        return True


def _candidates(session: Session, limit: int, offset: int, blocked=None):
    stmt = (select(ScanTask.id, ScanTask.queue, ScanTask.priority_rank, ScanTask.scan_id, Scan.status,
                   Scan.workspace_id, Scan.asset_id)
            .join(Scan, Scan.id == ScanTask.scan_id)
            .where(ScanTask.status == "queued", ScanTask.route == "platform")
            .order_by(ScanTask.priority_rank.desc(), ScanTask.created_at, ScanTask.id)
            .limit(limit).offset(offset))
    if blocked is not None:
        stmt = stmt.where(~blocked)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=ScanTask.__table__, skip_locked=True)
    return session.connection().execute(stmt).all()  # plain rows: no ORM loading on the hot path


def claim(session: Session, limit: int) -> list[Released]:
    """Mark up to `limit` releasable tasks `dispatched` in `session` (the caller commits, then hands them off)."""
    if limit <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _RELEASE_LOCK_KEY})
    slots = _Slots(session)
    chosen: list[Released] = []
    orphans: list[str] = []
    window = max(limit, 100)
    blocked = slots.blocked()
    for page in range(8):  # scans admitted in this pass may block later rows; a few pages find runnable ones
        rows = _candidates(session, window, page * window, blocked)
        for r in rows:
            if r.status in SCAN_TERMINAL:
                orphans.append(r.id)  # scan already over (timeout, cancel): nothing to run
            elif len(chosen) < limit and slots.admit(r.scan_id, r.workspace_id, r.asset_id):
                chosen.append(Released(r.id, r.queue, r.priority_rank))
        if len(chosen) >= limit or len(rows) < window:
            break
    # The candidate rows are locked (PostgreSQL FOR UPDATE; SQLite's write transaction is exclusive), so a cancel
    # cannot slip in between: the updates go by primary key alone.
    now = utcnow()
    for start in range(0, len(orphans), 1000):
        session.execute(update(ScanTask).where(ScanTask.id.in_(orphans[start:start + 1000]))
                        .values(status="cancelled", finished_at=now),
                        execution_options={"synchronize_session": False})
    ids = [c.task_id for c in chosen]
    for start in range(0, len(ids), 1000):
        session.execute(update(ScanTask).where(ScanTask.id.in_(ids[start:start + 1000]))
                        .values(status="dispatched", dispatched_at=now),
                        execution_options={"synchronize_session": False})
    return chosen


def _any_queued() -> bool:
    with unit_of_work(readonly=True) as session:
        return session.execute(select(ScanTask.id).where(ScanTask.status == "queued", ScanTask.route == "platform")
                               .limit(1)).first() is not None


def release_once(limit: int = BATCH, sink: Sink | None = None) -> int:
    """Release up to `limit` tasks in one transaction, then hand them to `sink` (default: the mode's sink)."""
    if limit <= 0 or not _any_queued():  # idle polls never take SQLite's write lock
        return 0
    with unit_of_work() as session:
        released = claim(session, limit)
    if released:
        (sink or default_sink())(released)
    return len(released)


def default_sink() -> Sink:
    """Celery publish when a broker is configured, else the process's in-process executor."""
    from s4e_platform.config import get_settings

    if get_settings().broker_url:
        from s4e_platform.worker import tasks

        return tasks.publish
    from s4e_platform.worker import executor

    return executor.shared().submit


def capacity() -> int:
    """How many tasks this process should release now: the executor's free slots, or a batch for the broker."""
    from s4e_platform.config import get_settings

    if get_settings().broker_url:
        return BATCH
    from s4e_platform.worker import executor

    return executor.shared().free_slots()


def run_forever(stop: threading.Event, *, recover_every: float = 2.0) -> None:
    """The release loop (run it while holding the `dispatcher` lease): recover, release, wait for a wake."""
    from s4e_platform.worker import recovery

    last_recovery = 0.0
    while not stop.is_set():
        WAKE.clear()  # cleared before releasing: a commit from now on is not lost
        try:
            if time.monotonic() - last_recovery >= recover_every:
                last_recovery = time.monotonic()
                recovery.requeue_expired()
            while not stop.is_set() and release_once(capacity()) >= BATCH:
                pass  # a full batch: more may be waiting
        except Exception:
            log.exception("releasing scan tasks failed")
            stop.wait(1.0)
        WAKE.wait(POLL_INTERVAL)
