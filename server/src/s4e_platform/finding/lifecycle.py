"""Manual status transitions (scanning.md 6.4) and accepted-risk expiry: one history row and exactly one finding
event per transition."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from s4e_platform.asset.models import Asset
from s4e_platform.errors import Unprocessable, validation_error
from s4e_platform.event import service as events
from s4e_platform.finding import scoring
from s4e_platform.finding import summary as summ
from s4e_platform.finding.models import STATUSES, Finding, FindingHistory
from s4e_platform.kit.clock import as_utc, isoformat, utcnow
from s4e_platform.workspace.models import Workspace
from s4e_platform.workspace.service import settings_of

TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"confirmed", "in_progress", "resolved", "false_positive", "accepted_risk"}),
    "confirmed": frozenset({"open", "in_progress", "resolved", "false_positive", "accepted_risk"}),
    "in_progress": frozenset({"confirmed", "resolved", "false_positive", "accepted_risk"}),
    "reopened": frozenset({"confirmed", "in_progress", "resolved", "false_positive", "accepted_risk"}),
    "resolved": frozenset({"reopened"}),
    "false_positive": frozenset({"open"}),
    "accepted_risk": frozenset({"open"}),
}
PAUSED = ("false_positive", "accepted_risk")  # the SLA clock stops here (6.7)
MAX_ACCEPTANCE = timedelta(days=365)
SYSTEM_ACTOR = {"type": "system", "id": None, "name": "system"}


class InvalidTransition(Unprocessable):
    code = "invalid_transition"


def _validate(finding: Finding, status: str, justification: str | None, expires_at: datetime | None,
              now: datetime) -> None:
    if status not in STATUSES:
        raise validation_error("$.status", f"status must be one of {', '.join(STATUSES)}", "invalid_choice")
    if status not in TRANSITIONS[finding.status]:
        raise InvalidTransition(f"a finding cannot move from {finding.status} to {status}",
                                details={"from": finding.status, "to": status,
                                         "allowed": sorted(TRANSITIONS[finding.status])})
    if status in PAUSED:
        text = (justification or "").strip()
        if not 10 <= len(text) <= 2000:
            raise validation_error("$.justification", "justification of 10-2000 characters is required",
                                   "invalid_length")
    if expires_at is not None:
        if status != "accepted_risk":
            raise validation_error("$.expires_at", "expires_at applies to accepted_risk only", "not_allowed")
        expires_at = as_utc(expires_at)
        if expires_at <= now or expires_at > now + MAX_ACCEPTANCE:
            raise validation_error("$.expires_at", "expires_at must be in the future and within 365 days",
                                   "out_of_range")


def change_status(session: Session, finding: Finding, *, status: str, actor: dict, justification: str | None = None,
                  expires_at: datetime | None = None, recompute: bool = True) -> bool:
    """Apply a manual transition. Returns False (no history, no event) when `status` is the current one.
    Bulk callers pass `recompute=False` and refresh each asset's scores once at the end."""
    if status == finding.status:
        return False
    now = utcnow()
    _validate(finding, status, justification, expires_at, now)
    _transition(session, finding, status=status, actor=actor, now=now,
                justification=(justification or "").strip() or None,
                expires_at=as_utc(expires_at) if expires_at else None, recompute=recompute)
    return True


def _sla_clock(session: Session, finding: Finding, old: str, new: str, now: datetime) -> None:
    if new in PAUSED and old not in PAUSED:
        if finding.sla_due_at is not None:
            finding.sla_paused_remaining = max(0, int((finding.sla_due_at - now).total_seconds()))
            finding.sla_due_at = None
    elif old in PAUSED and new not in PAUSED and finding.sla_paused_remaining is not None:
        finding.sla_due_at = now + timedelta(seconds=finding.sla_paused_remaining)
        finding.sla_paused_remaining = None
    elif new == "reopened":  # a reopen restarts the clock from now
        settings = settings_of(session.get(Workspace, finding.workspace_id))
        finding.sla_due_at = scoring.sla_due(finding.severity, now, settings["sla_days"])
        finding.sla_breached = False


def _transition(session: Session, finding: Finding, *, status: str, actor: dict, now: datetime,
                justification: str | None, expires_at: datetime | None, scan_id: str | None = None,
                recompute: bool = True) -> None:
    old = finding.status
    _sla_clock(session, finding, old, status, now)
    finding.status, finding.status_changed_at = status, now
    finding.justification = justification if status in PAUSED else None
    finding.accepted_until = expires_at if status == "accepted_risk" else None
    if status == "resolved":
        finding.resolution, finding.resolved_at = "fixed", now
    elif old == "resolved":
        finding.resolution, finding.resolved_at = None, None
        finding.reopen_count += 1
    session.add(FindingHistory(finding_id=finding.id, actor=actor, field="status", from_value=old, to_value=status,
                               justification=justification, at=now))
    session.flush()
    asset = session.get(Asset, finding.asset_id)
    data = {"finding": summ.summary(finding, asset), "old_status": old, "new_status": status}
    if status == "resolved":
        name, extra = "finding.resolved", {"resolution": "fixed", "scan_id": scan_id}
    elif status == "reopened":
        name, extra = "finding.reopened", {"scan_id": scan_id}
    else:
        name, extra = "finding.status_changed", {"justification": finding.justification,
                                                 "accepted_until": isoformat(finding.accepted_until)}
    events.record(session, workspace_id=finding.workspace_id, event=name, data={**data, **extra}, actor=actor,
                  asset_id=finding.asset_id)
    if recompute:
        scoring.recompute_asset(session, asset)


def expire_accepted_risk(session: Session, now: datetime | None = None) -> int:
    """Return every accepted risk whose acceptance ended to `open` (actor system); the count changed."""
    now = now or utcnow()
    due = list(session.execute(select(Finding).where(
        Finding.status == "accepted_risk", Finding.accepted_until.is_not(None), Finding.accepted_until <= now)
        .order_by(Finding.id)).scalars())
    for finding in due:
        _transition(session, finding, status="open", actor=SYSTEM_ACTOR, now=now, justification=None,
                    expires_at=None)
    return len(due)
