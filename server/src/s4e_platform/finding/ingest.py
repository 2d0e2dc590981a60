"""Deduplicating ingestion of scanner findings (scanning.md 6.2-6.5).

One multi-row `INSERT ... ON CONFLICT (workspace_id, fingerprint) DO UPDATE ... RETURNING` per chunk decides new
versus seen versus reopened inside the database: no row is read before it is written. A new row comes back with
`sighting_count == 1`; a reopened one comes back `reopened` with `status_changed_at` equal to this run's clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, exists, func, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from s4e_platform.asset.models import Asset
from s4e_platform.db.base import UTCDateTime
from s4e_platform.event import service as events
from s4e_platform.finding import coverage as cov
from s4e_platform.finding import repository, scoring
from s4e_platform.finding import summary as summ
from s4e_platform.finding.fingerprint import fingerprint
from s4e_platform.finding.models import (
    ACTIVE_STATUSES,
    EVIDENCE_KEPT,
    FINGERPRINT_VERSION,
    SEVERITIES,
    Finding,
    FindingHistory,
    FindingSighting,
)
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.ids import new_id
from s4e_platform.scanners.base import FindingCandidate
from s4e_platform.workspace.models import Workspace
from s4e_platform.workspace.service import settings_of

SYSTEM_SCANNER = {"type": "system", "id": None, "name": "scanner"}


def _row(c: FindingCandidate, fp: str, *, asset: Asset, scanner: str, scan_id: str | None, now: datetime,
         settings: dict) -> dict:
    severity, reason = scoring.classify(c.severity, rules=settings["severity_rules"], asset=asset, scanner=scanner,
                                        category=c.category)
    risk = scoring.risk_score(severity=severity, cvss=None, criticality=asset.criticality,
                              network_zone=asset.network_zone, epss_percentile=None, kev=False,
                              weights=settings["risk_weights"])
    return {
        "id": new_id("fnd"), "workspace_id": asset.workspace_id, "fingerprint": fp,
        "fingerprint_version": FINGERPRINT_VERSION, "asset_id": asset.id, "service_id": None, "endpoint_id": None,
        "location": dataclasses.asdict(c.location), "scanner": scanner, "check_id": c.check_id, "title": c.title,
        "description": c.description or "", "remediation": c.remediation or "", "category": c.category,
        "references": list(c.references), "cve_ids": list(c.cve_ids), "cwe_ids": list(c.cwe_ids),
        "severity": severity, "original_severity": c.severity, "severity_reason": reason, "severity_override": None,
        "cvss": None, "cvss_vector": None, "cvss_version": None, "kev": False, "kev_date_added": None, "epss": None,
        "epss_percentile": None, "risk_score": risk, "status": "open", "justification": None,
        "accepted_until": None, "resolution": None, "assignee_id": None, "due_date": None,
        "sla_due_at": scoring.sla_due(severity, now, settings["sla_days"]), "sla_paused_remaining": None,
        "sla_breached": False, "tags": [], "tickets": [], "scan_id": scan_id, "last_scan_id": scan_id,
        "discovered_at": now, "last_seen_at": now, "resolved_at": None, "status_changed_at": now,
        "sighting_count": 1, "reopen_count": 0, "evidence": dict(c.evidence), "created_at": now, "updated_at": now,
    }


def _upsert_statement(dialect, now: datetime, sla_days: dict, source=None):
    """The upsert, from a SELECT (`source`) or for executemany; never a per-chunk VALUES list (compiling 1,000-row
    VALUES clauses dominated the run time). Every CASE reads the row's old values: that is the transition."""
    table = Finding.__table__
    stmt = dialect.insert(table)
    if source is not None:
        stmt = stmt.from_select([c.name for c in source.selected_columns], source)
    ex = stmt.excluded
    reopen = table.c.status == "resolved"
    whens = [(table.c.severity == sev, bindparam(f"due_{sev}", now + timedelta(days=days), UTCDateTime()))
             for sev, days in sla_days.items() if days]
    due = case(*whens, else_=None) if whens else null()
    return stmt.on_conflict_do_update(
        index_elements=[table.c.workspace_id, table.c.fingerprint],
        set_={
            "last_seen_at": ex.last_seen_at, "last_scan_id": ex.last_scan_id, "evidence": ex.evidence,
            "updated_at": ex.updated_at, "sighting_count": table.c.sighting_count + 1,
            # false_positive / accepted_risk / triaged statuses are never changed by a scan (6.4).
            "status": case((reopen, "reopened"), else_=table.c.status),
            "reopen_count": table.c.reopen_count + case((reopen, 1), else_=0),
            "resolved_at": case((reopen, None), else_=table.c.resolved_at),
            "resolution": case((reopen, None), else_=table.c.resolution),
            "status_changed_at": case((reopen, ex.status_changed_at), else_=table.c.status_changed_at),
            "sla_due_at": case((reopen, due), else_=table.c.sla_due_at),
            "sla_breached": case((reopen, False), else_=table.c.sla_breached),
        },
    ).returning(*summ.columns(), table.c.sighting_count, table.c.status_changed_at)


def _prepare(candidates: Iterable[FindingCandidate], asset: Asset, scanner: str) -> dict[str, FindingCandidate]:
    """One row per fingerprint: a task that reports the same issue twice has seen it once (the last wins)."""
    out: dict[str, FindingCandidate] = {}
    for c in candidates:
        if c.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {c.severity!r} from scanner {scanner}")
        out[fingerprint(asset_id=asset.id, scanner=scanner, check_id=c.check_id, location=c.location,
                        discriminator=c.discriminator)] = c
    return out


def ingest(session: Session, *, workspace_id: str, asset: Asset, scanner: str, scan_id: str | None,
           task_id: str | None, candidates: Iterable[FindingCandidate], actor: dict | None = None) -> dict:
    """Upsert one task's findings on `asset`; returns `{new, reopened, seen}`."""
    if asset.workspace_id != workspace_id:
        raise ValueError("asset belongs to another workspace")
    actor = actor or SYSTEM_SCANNER
    settings = settings_of(session.get(Workspace, workspace_id))
    now = utcnow()
    prepared = _prepare(candidates, asset, scanner)
    rows = [_row(c, fp, asset=asset, scanner=scanner, scan_id=scan_id, now=now, settings=settings)
            for fp, c in prepared.items()]
    if session.get_bind().dialect.name == "postgresql":
        returned = repository.upsert_postgresql(
            session, lambda src: _upsert_statement(postgresql, now, settings["sla_days"], src), rows,
            scan_id=scan_id, task_id=task_id, now=now)
    else:
        returned = repository.upsert_sqlite(
            session, lambda src: _upsert_statement(sqlite, now, settings["sla_days"], src), rows,
            {fp: dict(c.evidence) for fp, c in prepared.items()}, scan_id=scan_id, task_id=task_id, now=now)
    counts, crowded = _record_outcomes(session, returned, asset=asset, actor=actor, scan_id=scan_id, now=now)
    _prune_evidence(session, crowded)
    scoring.recompute_asset(session, asset)
    return counts


def _record_outcomes(session: Session, returned: list, *, asset: Asset, actor: dict, scan_id: str | None,
                     now: datetime) -> tuple[dict, list[str]]:
    """Count new/reopened/seen from the RETURNING rows; write their events and history in bulk."""
    counts = {"new": 0, "reopened": 0, "seen": 0}
    pending_events, history, crowded = [], [], []
    for r in returned:
        if r.sighting_count > EVIDENCE_KEPT:
            crowded.append(r.id)
        if r.sighting_count == 1:
            counts["new"] += 1
            pending_events.append(_event(asset, actor, "finding.new", {"finding": summ.summary(r, asset)}))
        elif r.status == "reopened" and r.status_changed_at == now:
            counts["reopened"] += 1
            history.append({"finding_id": r.id, "actor": actor, "field": "status", "from_value": "resolved",
                            "to_value": "reopened", "justification": None, "at": now})
            pending_events.append(_event(asset, actor, "finding.reopened", {
                "finding": summ.summary(r, asset), "old_status": "resolved", "new_status": "reopened",
                "scan_id": scan_id}))
        else:
            counts["seen"] += 1
    if history:
        session.execute(FindingHistory.__table__.insert(), history)
    events.record_many(session, pending_events)
    return counts, crowded


def _event(asset: Asset, actor: dict, name: str, data: dict) -> dict:
    return {"workspace_id": asset.workspace_id, "event": name, "data": data, "actor": actor, "asset_id": asset.id}


def _prune_evidence(session: Session, finding_ids: list[str]) -> None:
    """Keep evidence on the latest EVIDENCE_KEPT sightings of each finding; older sightings still count."""
    s = FindingSighting.__table__
    for fid in finding_ids:
        keep = select(s.c.id).where(s.c.finding_id == fid).order_by(s.c.id.desc()).limit(EVIDENCE_KEPT)
        floor = select(func.min(keep.subquery().c.id)).scalar_subquery()
        session.execute(update(s).where(s.c.finding_id == fid, s.c.id < floor, s.c.evidence.is_not(None))
                        .values(evidence=None))


def auto_resolve(session: Session, *, workspace_id: str, asset_id: str, scanner: str, task_id: str,
                 executed_checks: Iterable[str], coverage: dict, scan_id: str | None = None) -> int:
    """Resolve (A, S) findings a *completed* task covered but did not see (6.5). The caller calls this only for
    tasks that ended `completed`; partial, failed and cancelled runs never resolve anything."""
    checks = sorted(set(executed_checks))
    if not checks or not coverage:
        return 0
    s = FindingSighting.__table__
    seen_now = exists().where(s.c.finding_id == Finding.id, s.c.task_id == task_id)
    found = list(session.execute(select(Finding).where(
        Finding.workspace_id == workspace_id, Finding.asset_id == asset_id, Finding.scanner == scanner,
        Finding.status.in_(ACTIVE_STATUSES), Finding.check_id.in_(checks), ~seen_now)).scalars())
    asset = session.get(Asset, asset_id)
    now = utcnow()
    resolved = 0
    for finding in found:
        if not cov.covers(coverage, finding.location or {}):
            continue
        old = finding.status
        finding.status, finding.resolution = "resolved", "auto"
        finding.resolved_at = finding.status_changed_at = now
        session.add(FindingHistory(finding_id=finding.id, actor=SYSTEM_SCANNER, field="status", from_value=old,
                                   to_value="resolved", justification=None, at=now))
        session.flush()
        events.record(session, workspace_id=workspace_id, event="finding.resolved", actor=SYSTEM_SCANNER,
                      asset_id=asset_id, data={"finding": summ.summary(finding, asset), "old_status": old,
                                               "new_status": "resolved", "resolution": "auto", "scan_id": scan_id})
        resolved += 1
    if resolved and asset is not None:
        scoring.recompute_asset(session, asset)
    return resolved
