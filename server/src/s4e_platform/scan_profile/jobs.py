"""Periodic jobs the scheduler leader runs besides profile fires: accepted-risk expiry (every minute) and the daily
SLA breach pass (scanning.md 6.7).

Each job's next due time is a `leader_lease` row named `job:<name>` whose `expires_at` is the next run: claiming it
is one conditional UPDATE, so a job runs once per period across restarts and leader changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from s4e_platform.asset.models import Asset
from s4e_platform.db.session import unit_of_work
from s4e_platform.event import service as events
from s4e_platform.finding import lifecycle
from s4e_platform.finding import summary as summ
from s4e_platform.finding.models import ACTIVE_STATUSES, Finding, FindingHistory
from s4e_platform.kit.clock import utcnow
from s4e_platform.runtime.models import LeaderLease

log = logging.getLogger("s4e.jobs")
SYSTEM_ACTOR = {"type": "system", "id": None, "name": "system"}
BATCH = 500
RETRY_AFTER_FAILURE = timedelta(minutes=5)


def expire_accepted_risk(now: datetime) -> int:
    """Accepted risks past `accepted_until` go back to `open` (finding/lifecycle)."""
    with unit_of_work() as s:
        return lifecycle.expire_accepted_risk(s, now)


def mark_sla_breaches(now: datetime) -> int:
    """Set `sla_breached` on active findings past `sla_due_at`; one `finding.updated` per newly breached finding.
    Batches of BATCH findings, one transaction each."""
    total = 0
    while True:
        with unit_of_work() as s:
            rows = list(s.execute(select(Finding).where(
                Finding.status.in_(ACTIVE_STATUSES), Finding.sla_breached.is_(False),
                Finding.sla_due_at.is_not(None), Finding.sla_due_at <= now).order_by(Finding.id).limit(BATCH))
                .scalars())
            if not rows:
                return total
            assets = {a.id: a for a in s.execute(select(Asset).where(
                Asset.id.in_({f.asset_id for f in rows}))).scalars()}
            for f in rows:
                f.sla_breached = True
            s.flush()
            s.execute(FindingHistory.__table__.insert(), [
                {"finding_id": f.id, "actor": SYSTEM_ACTOR, "field": "sla_breached", "from_value": "false",
                 "to_value": "true", "justification": None, "at": now} for f in rows])
            events.record_many(s, [
                {"workspace_id": f.workspace_id, "event": "finding.updated", "actor": SYSTEM_ACTOR,
                 "asset_id": f.asset_id,
                 "data": {"finding": summ.summary(f, assets[f.asset_id]), "changes": ["sla_breached"]}}
                for f in rows])
            total += len(rows)
        if len(rows) < BATCH:
            return total


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[datetime], int]


JOBS: tuple[Job, ...] = (
    Job("finding.expire_accepted_risk", timedelta(minutes=1), expire_accepted_risk),
    Job("finding.sla_breach", timedelta(days=1), mark_sla_breaches),
)


def _claim(name: str, now: datetime, until: datetime) -> bool:
    """Take the job's run for this period: True when its due time (`expires_at`) has come."""
    key = f"job:{name}"
    try:
        with unit_of_work() as s:
            if s.get(LeaderLease, key) is None:
                s.add(LeaderLease(name=key, holder="scheduler", expires_at=until))
                return True
            result = s.execute(update(LeaderLease).where(LeaderLease.name == key, LeaderLease.expires_at <= now)
                               .values(expires_at=until))
            return result.rowcount == 1
    except IntegrityError:  # another process inserted the row first: it runs this period
        return False


def _postpone(name: str, until: datetime) -> None:
    with unit_of_work() as s:
        s.execute(update(LeaderLease).where(LeaderLease.name == f"job:{name}").values(expires_at=until))


def run_due(now: datetime | None = None, jobs: tuple[Job, ...] = JOBS) -> dict[str, int]:
    """Run every job whose period has come; returns `{job name: items changed}` for the jobs that ran."""
    now = now or utcnow()
    done: dict[str, int] = {}
    for job in jobs:
        if not _claim(job.name, now, now + job.every):
            continue
        try:
            done[job.name] = job.run(now)
        except Exception:  # a failing job is retried after a pause, not every tick and not a period later
            log.exception("periodic job %s failed", job.name)
            _postpone(job.name, now + min(job.every, RETRY_AFTER_FAILURE))
    return done
