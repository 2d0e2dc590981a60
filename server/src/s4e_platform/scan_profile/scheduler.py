"""The profile scheduler (scanning.md 3): fires due profiles, one transaction per profile fire.

A fire first stores its key `(profile_id, scheduled_at)` in `scan_fire`, then creates the scans in the same
transaction: a second scheduler (or this one after a restart) that reaches the same scheduled time fails on the
unique key and skips, so no time ever fires twice. After downtime, scheduled times older than the 1-hour grace
leave one `missed` record; the latest time within the grace fires once. A start inside a skip window is recorded
`skipped`, or `deferred` (on_skip: defer) and then fired once when the window ends.

`run_forever` holds the database lease `scheduler` (runtime/leader.py): only the lease holder ticks. It also runs
the periodic jobs (jobs.py).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from s4e_platform.config import get_settings
from s4e_platform.db.session import unit_of_work
from s4e_platform.kit.clock import as_utc, isoformat, utcnow
from s4e_platform.runtime import leader
from s4e_platform.scan_profile import cron, jobs, plan, service
from s4e_platform.scan_profile.models import ScanFire, ScanProfile
from s4e_platform.scan_profile.repository import due_profile_ids
from s4e_platform.workspace.models import Workspace
from s4e_platform.workspace.service import settings_of

log = logging.getLogger("s4e.scheduler")
LEASE = "scheduler"
EPSILON = timedelta(microseconds=1)


def _record(session: Session, profile: ScanProfile, scheduled_at: datetime, now: datetime, outcome: str,
            **detail) -> ScanFire:
    """Store the fire key now: an IntegrityError here means the time was already handled."""
    fire = ScanFire(profile_id=profile.id, workspace_id=profile.workspace_id, scheduled_at=scheduled_at,
                    fired_at=now, outcome=outcome, scan_ids=[], detail=detail)
    session.add(fire)
    session.flush()
    return fire


def _fire(session: Session, profile: ScanProfile, scheduled_at: datetime, now: datetime,
          ws_settings: dict) -> datetime | None:
    """Handle one scheduled time; returns the window end when the start is deferred."""
    fire = _record(session, profile, scheduled_at, now, "pending")
    windows = plan.windows_for(profile, ws_settings)
    hit = cron.covering(windows, now)
    if hit is not None:
        window = hit[0].describe()
        if (profile.schedule or {}).get("on_skip") == "defer":
            try:
                end = cron.clear_after(windows, now)
            except cron.InvalidSchedule:
                fire.outcome, fire.detail = "skipped", {"window": window, "reason": "windows cover every start"}
                return None
            fire.outcome, fire.detail = "deferred", {"window": window, "deferred_to": isoformat(end)}
            return end
        fire.outcome, fire.detail = "skipped", {"window": window}
        return None
    run = service.run_profile(session, profile, triggered_by={"type": "schedule", "id": profile.id},
                              created_by=None, scheduled_at=scheduled_at, now=now)
    fire.outcome = "fired" if run.in_scope else "empty"
    fire.scan_ids = [s.id for s in run]
    fire.detail = {"in_scope": run.in_scope, "skipped": run.skipped}
    return None


def _process(session: Session, profile: ScanProfile, now: datetime) -> str:
    """Everything due for one profile at `now`: missed record, one fire, the next due time."""
    due = as_utc(profile.next_run_at)
    cutoff = now - plan.GRACE
    ws_settings = settings_of(session.get(Workspace, profile.workspace_id))
    outcome = "none"
    if due < cutoff:
        _record(session, profile, due, now, "missed", missed_before=isoformat(cutoff))
        outcome = "missed"
    # The latest time within the grace: a cron time, or `due` itself (which may be a deferred start).
    candidates = [t for t in (due if due >= cutoff else None,
                              plan.latest_due(profile, max(due, cutoff - EPSILON), now)) if t is not None]
    deferred_to = None
    if candidates:
        deferred_to = _fire(session, profile, max(candidates), now, ws_settings)
        outcome = "deferred" if deferred_to else "fired"
    nxt = plan.next_scheduled(profile, now)
    if deferred_to is not None:
        nxt = deferred_to if nxt is None else min(nxt, deferred_to)
    profile.next_run_at = nxt
    return outcome


def _move_past(profile_id: str, due: datetime, now: datetime) -> None:
    """After a duplicate key: if nobody advanced the profile (its time was recorded by an earlier run, e.g. before
    the clock stepped back), move it on so it is not retried every tick."""
    with unit_of_work() as s:
        profile = s.get(ScanProfile, profile_id)
        if profile is not None and profile.next_run_at is not None and as_utc(profile.next_run_at) == due:
            profile.next_run_at = plan.next_scheduled(profile, now)


def fire_profile(profile_id: str, now: datetime) -> str:
    """One profile's due work in its own transaction; `duplicate` when another scheduler already fired it."""
    due = None
    try:
        with unit_of_work() as s:
            profile = s.get(ScanProfile, profile_id)
            if (profile is None or not profile.enabled or profile.next_run_at is None
                    or as_utc(profile.next_run_at) > now):
                return "not_due"
            due = as_utc(profile.next_run_at)
            try:
                return _process(s, profile, now)
            except cron.InvalidSchedule as exc:  # a stored zone or cron no longer valid: stop, do not loop
                log.error("profile %s has an invalid schedule (%s); unscheduling it", profile_id, exc)
                profile.next_run_at = None
                return "invalid"
    except IntegrityError:
        _move_past(profile_id, due, now)
        return "duplicate"


def tick(now: datetime | None = None) -> dict:
    """Fire every due profile; returns counts by outcome."""
    now = as_utc(now or utcnow())
    with unit_of_work(readonly=True) as s:
        ids = due_profile_ids(s, now)
    counts: dict[str, int] = {"due": len(ids)}
    for profile_id in ids:
        try:
            outcome = fire_profile(profile_id, now)
        except Exception:  # one broken profile must not stop the others
            log.exception("firing profile %s failed", profile_id)
            outcome = "error"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def run_once(now: datetime | None = None, *, holder: str = leader.HOLDER, lease_ttl: float = 15.0) -> dict | None:
    """One scheduler step if this process holds (or takes) the lease: profile fires, then periodic jobs.
    None when another process leads."""
    if not leader.acquire(LEASE, ttl=lease_ttl, holder=holder):
        return None
    return {"profiles": tick(now), "jobs": jobs.run_due(now)}


def run_forever(stop: threading.Event, interval: float | None = None, *, holder: str = leader.HOLDER) -> None:
    """The scheduler loop: a step every `interval` seconds (setting `scheduler_interval`) while leader."""
    interval = interval if interval is not None else get_settings().scheduler_interval
    ttl = max(15.0, interval * 3)
    while not stop.is_set():
        try:
            run_once(holder=holder, lease_ttl=ttl)
        except Exception:
            log.exception("scheduler step failed")
        stop.wait(interval)
    try:
        leader.release(LEASE, holder=holder)
    except Exception:
        log.exception("releasing the scheduler lease failed")
