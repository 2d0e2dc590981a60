"""Delivery jobs (events.md 2.2). The delivery row is the job; the webhook-id it carries is the event id, so
every retry, takeover and redelivery sends the same id with the same body.

Life of an attempt, in three steps that never hold a transaction across the network:
1. `claim_due` (one transaction): due rows -> `delivering` with a lease, at most 10 in flight per endpoint.
2. the HTTP attempt (transport.py), outside any transaction.
3. `record` (a new transaction): the attempt log, then succeeded / retry later / failed.
A worker killed between 1 and 3 leaves the lease to lapse; the row is then due again for any worker.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from s4e_platform.config import get_settings
from s4e_platform.db.session import unit_of_work
from s4e_platform.event import service as event_service
from s4e_platform.event.models import Event
from s4e_platform.kit.clock import as_utc, utcnow
from s4e_platform.webhook import repository, service, signing
from s4e_platform.webhook.models import Delivery, Webhook
from s4e_platform.webhook.transport import Attempt

MAX_IN_FLIGHT = 10
# Delays before attempts 2..8: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about 27.6 h in all).
DEFAULT_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
JITTER = (1.0, 1.2)
AUTO_DISABLE_AFTER = timedelta(days=5)


def schedule() -> tuple[float, ...]:
    """Delays before each retry; S4E_WEBHOOK_RETRY_SCHEDULE (comma list of seconds) replaces them."""
    return tuple(get_settings().retry_schedule() or DEFAULT_SCHEDULE)


def max_attempts() -> int:
    return len(schedule()) + 1


def lease_seconds() -> float:
    """Long enough for one attempt (its deadline) plus recording it, short enough to recover a dead worker."""
    timeout = get_settings().webhook_timeout
    return timeout + max(5.0, timeout)


def body_of(event: Event) -> bytes:
    """The event envelope as compact UTF-8 JSON (the exact bytes that are signed)."""
    return json.dumps(event_service.envelope(event), separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Job:
    """Everything one attempt needs, read at claim time so the attempt itself touches no database."""

    delivery_id: str
    lease: datetime
    number: int
    webhook_id: str
    url: str
    secrets: list[str]
    custom_headers: dict[str, str]
    event_id: str
    body: bytes

    def headers(self, timestamp: int) -> dict[str, str]:
        return signing.request_headers(msg_id=self.event_id, timestamp=timestamp, body=self.body,
                                       secrets=self.secrets, custom=self.custom_headers)


def _close(row: Delivery, status: str, now: datetime) -> None:
    row.status, row.finished_at, row.next_attempt_at, row.lease_expires_at = status, now, None, None


def claim_due(limit: int) -> list[Job]:
    """Lease up to `limit` due deliveries (one transaction)."""
    if limit <= 0:
        return []
    with unit_of_work(readonly=True) as session:
        if not repository.any_due(session, utcnow()):
            return []  # idle polls never take SQLite's write lock
    with unit_of_work() as session:
        return _claim(session, limit)


def _claim(session: Session, limit: int) -> list[Job]:
    now = utcnow()
    repository.lock_claims(session)
    rows = repository.due_deliveries(session, now, limit, MAX_IN_FLIGHT)
    if not rows:
        return []
    hooks = repository.webhooks_by_id(session, {r.target_id for r in rows})
    events = repository.events_by_id(session, {r.event_id for r in rows})
    lease = now + timedelta(seconds=lease_seconds())
    material: dict[str, tuple[list[str], dict[str, str]]] = {}
    jobs: list[Job] = []
    for row in rows:
        hook, event = hooks.get(row.target_id), events.get(row.event_id)
        if hook is None or hook.status != "enabled":
            _close(row, "cancelled", now)  # disabled after the row was made
            continue
        if event is None:
            _close(row, "failed", now)  # the event is past retention: nothing left to send
            continue
        if hook.id not in material:
            material[hook.id] = (service.signing_secrets(hook, now), service.custom_headers(hook))
        secrets, headers = material[hook.id]
        row.status, row.lease_expires_at, row.attempt_count = "delivering", lease, row.attempt_count + 1
        jobs.append(Job(delivery_id=row.id, lease=lease, number=row.attempt_count, webhook_id=hook.id,
                        url=hook.url, secrets=secrets, custom_headers=headers, event_id=event.id,
                        body=body_of(event)))
    return jobs


def _owns(row: Delivery, job: Job) -> bool:
    """Still ours: not re-claimed after our lease lapsed, not cancelled or requeued meanwhile."""
    return row.status == "delivering" and row.lease_expires_at is not None and \
        as_utc(row.lease_expires_at) == as_utc(job.lease)


def _next_attempt_at(row: Delivery, attempt: Attempt, now: datetime) -> datetime:
    delays = schedule()
    index = min(row.attempt_count - row.retry_base - 1, len(delays) - 1)
    delay = delays[max(index, 0)] * random.uniform(*JITTER)
    if attempt.retry_after is not None:  # 429/503: not before Retry-After (already capped at 10 h)
        delay = max(delay, attempt.retry_after)
    return now + timedelta(seconds=delay)


def _health(hook: Webhook, attempt: Attempt, now: datetime) -> None:
    hook.last_delivery_at = now
    if attempt.succeeded:
        hook.last_success_at, hook.failing_since = now, None
    elif hook.failing_since is None:
        hook.failing_since = attempt.started_at  # first failure with no success after it


def record(results: list[tuple[Job, Attempt]], *, claim: int = 0) -> list[Job]:
    """Record finished attempts (one transaction for the batch) and decide each delivery's next state.
    With `claim`, the same transaction then leases up to that many due deliveries for the freed slots."""
    if not results:
        return claim_due(claim)
    with unit_of_work() as session:
        now = utcnow()
        # Webhook rows first, then deliveries: the order API writes (disable -> cancel) take them in.
        hooks = repository.webhooks_by_id(session, {job.webhook_id for job, _ in results}, lock=True)
        rows = repository.deliveries_for_update(session, [job.delivery_id for job, _ in results])
        to_disable: dict[str, str] = {}
        for job, attempt in sorted(results, key=lambda r: r[1].started_at):
            row, hook = rows.get(job.delivery_id), hooks.get(job.webhook_id)
            if row is None:
                continue  # the webhook was deleted meanwhile
            row.attempts = [*(row.attempts or []), attempt.log_entry(job.number)]
            if hook is not None:
                _health(hook, attempt, now)
            if attempt.succeeded:
                if row.status != "succeeded":
                    _close(row, "succeeded", now)  # delivered is delivered, whoever owns the row now
                continue
            if not _owns(row, job):
                continue
            if attempt.error_class == "ssrf_blocked":
                _close(row, "failed", now)  # retrying cannot unblock it
            elif attempt.status_code == 410:
                _close(row, "failed", now)
                to_disable[job.webhook_id] = "gone"
            elif row.attempt_count - row.retry_base >= max_attempts():
                _close(row, "failed", now)
            else:
                row.status, row.lease_expires_at = "pending", None
                row.next_attempt_at = _next_attempt_at(row, attempt, now)
        for hook in hooks.values():
            if hook.status == "enabled" and hook.failing_since is not None and \
                    now - as_utc(hook.failing_since) >= AUTO_DISABLE_AFTER:
                to_disable.setdefault(hook.id, "failing")
        session.flush()
        for hook_id, reason in to_disable.items():
            if hooks[hook_id].status == "enabled":
                service.disable(session, hooks[hook_id], reason=reason, now=now)
        session.flush()
        return _claim(session, claim) if claim > 0 else []


def release(jobs: list[Job]) -> None:
    """Give back claims whose attempt was abandoned (shutdown), so they need not wait for the lease."""
    if not jobs:
        return
    with unit_of_work() as session:
        now = utcnow()
        rows = repository.deliveries_for_update(session, [job.delivery_id for job in jobs])
        for job in jobs:
            row = rows.get(job.delivery_id)
            if row is not None and _owns(row, job):
                row.status, row.lease_expires_at, row.next_attempt_at = "pending", None, now
                row.attempt_count -= 1
