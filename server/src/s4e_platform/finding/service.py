"""Finding triage rules: read shape, PATCH (severity override, tags, due date), status changes and assignment,
singly and in bulk (api.md 2.5, scanning.md 6.4-6.9)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from s4e_platform.asset.models import Asset
from s4e_platform.auth.principal import Principal
from s4e_platform.errors import NotFound, validation_error
from s4e_platform.event import service as events
from s4e_platform.finding import lifecycle, scoring
from s4e_platform.finding import summary as summ
from s4e_platform.finding.models import SEVERITIES, STATUSES, Finding, FindingHistory
from s4e_platform.finding.queries import FindingFilters, FindingRepository, filters_from_body, sort
from s4e_platform.finding.schemas import MAX_FILTER_SELECTION, Assignment, FindingUpdate, Selection
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.ids import parse_id
from s4e_platform.kit.pagination import PageParams
from s4e_platform.workspace import service as workspace_service
from s4e_platform.workspace.models import Workspace

LIST_COLUMNS = [c for c in Finding.__table__.columns if c.name != "evidence"]
_READ_FIELDS = (
    "id", "asset_id", "service_id", "endpoint_id", "scan_id", "last_scan_id", "scanner", "check_id", "title",
    "description", "remediation", "category", "severity", "original_severity", "severity_reason",
    "severity_override", "cvss", "cvss_vector", "cvss_version", "kev", "kev_date_added", "epss", "epss_percentile",
    "risk_score", "status", "justification", "accepted_until", "resolution", "assignee_id", "due_date",
    "sla_due_at", "sla_breached", "fingerprint", "fingerprint_version", "sighting_count", "reopen_count",
    "discovered_at", "last_seen_at", "resolved_at", "status_changed_at", "updated_at")


def repo(session: Session, principal: Principal) -> FindingRepository:
    return FindingRepository(session, principal.workspace_id, principal.asset_restriction)


def to_read(f: Finding, asset: Asset, *, evidence: bool = False) -> dict[str, Any]:
    out = {name: getattr(f, name) for name in _READ_FIELDS}
    out.update(asset=summ.asset_ref(asset), cve_ids=list(f.cve_ids or []), cwe_ids=list(f.cwe_ids or []),
               references=list(f.references or []), location=dict(f.location or {}),
               tickets=list(f.tickets or []), tags=list(f.tags or []))
    if evidence:
        out["evidence"] = dict(f.evidence or {})
    return out


def read_page(r: FindingRepository, rows: list[Any]) -> list[dict[str, Any]]:
    assets = r.assets({f.asset_id for f in rows})
    return [to_read(f, assets[f.asset_id]) for f in rows]


def list_page(session: Session, principal: Principal, filters: FindingFilters, paging: PageParams) -> tuple:
    """One page of the list, as a deferred join: the page's ids come from an index walk (OFFSET skips index
    entries, not whole rows, which SQLite would otherwise build and discard), then only those 100 rows are read
    as plain rows, never with evidence. Measured in bench/sdk_findings_pagination.py."""
    r = repo(session, principal)
    scope = r.scope(filters)
    ordered = sort(select(Finding.id).where(*scope), paging.sort_by, paging.sort_order)
    total = session.execute(select(func.count()).select_from(Finding).where(*scope)).scalar_one()
    ids = list(session.execute(ordered.limit(paging.per_page).offset((paging.page - 1) * paging.per_page))
               .scalars())
    by_id = {row.id: row for row in session.execute(select(*LIST_COLUMNS).where(Finding.id.in_(ids)))} if ids else {}
    meta = {"total": total, "page": paging.page, "per_page": paging.per_page,
            "total_pages": math.ceil(total / paging.per_page) if total else 0}
    return read_page(r, [by_id[i] for i in ids if i in by_id]), meta


def get(session: Session, principal: Principal, finding_id: str, *, with_evidence: bool = False) -> Finding:
    stmt = repo(session, principal).select().where(Finding.id == parse_id(finding_id, "fnd"))
    if not with_evidence:
        stmt = stmt.options(defer(Finding.evidence))
    finding = session.execute(stmt).scalar_one_or_none()
    if finding is None:
        raise NotFound("Finding not found")
    return finding


def asset_of(session: Session, finding: Finding) -> Asset:
    return session.get(Asset, finding.asset_id)


def summary_counts(session: Session, principal: Principal, filters: FindingFilters) -> dict[str, Any]:
    """Counts by severity x status, SLA breached, KEV and asset criticality in one grouped query."""
    r = repo(session, principal)
    keys = (Finding.severity, Finding.status, Finding.sla_breached, Finding.kev, Asset.criticality)
    rows = session.execute(select(*keys, func.count()).join(Asset, Asset.id == Finding.asset_id)
                           .where(*r.scope(filters)).group_by(*keys)).all()
    grid = {s: dict.fromkeys(STATUSES, 0) for s in SEVERITIES}
    by_crit = dict.fromkeys(("critical", "high", "medium", "low"), 0)
    out = {"total": 0, "sla_breached": 0, "kev": 0}
    for severity, status, breached, kev, criticality, count in rows:
        grid[severity][status] += count
        by_crit[criticality] = by_crit.get(criticality, 0) + count
        out["total"] += count
        out["sla_breached"] += count if breached else 0
        out["kev"] += count if kev else 0
    out["by_severity_status"] = grid
    out["by_severity"] = {s: sum(grid[s].values()) for s in SEVERITIES}
    out["by_status"] = {st: sum(grid[s][st] for s in SEVERITIES) for st in STATUSES}
    out["by_criticality"] = by_crit
    return out


def _settings(session: Session, finding: Finding) -> dict:
    return workspace_service.settings_of(session.get(Workspace, finding.workspace_id))


def _sla_start(session: Session, finding: Finding) -> datetime:
    """Discovery, or the last reopen (6.7)."""
    if finding.reopen_count:
        at = session.execute(select(func.max(FindingHistory.at)).where(
            FindingHistory.finding_id == finding.id, FindingHistory.field == "status",
            FindingHistory.to_value == "reopened")).scalar()
        if at is not None:
            return at
    return finding.discovered_at


def rescore(session: Session, finding: Finding, asset: Asset, settings: dict) -> list[str]:
    """Risk score and SLA deadline for the (new) effective severity; returns extra changed fields. Shared by a
    manual override and by re-classification (finding/reclassify.py)."""
    finding.risk_score = scoring.risk_score(
        severity=finding.severity, cvss=finding.cvss, criticality=asset.criticality,
        network_zone=asset.network_zone, epss_percentile=finding.epss_percentile, kev=finding.kev,
        weights=settings["risk_weights"])
    due = scoring.sla_due(finding.severity, _sla_start(session, finding), settings["sla_days"])
    if finding.status in lifecycle.PAUSED:  # the clock is stopped: re-derive what was left when it stopped
        finding.sla_paused_remaining = (None if due is None else
                                        max(0, int((due - finding.status_changed_at).total_seconds())))
        return []
    finding.sla_due_at = due
    breached = due is not None and due <= utcnow() and finding.status not in ("resolved",)
    if breached != finding.sla_breached:
        finding.sla_breached = breached
        return ["sla_breached"]
    return []


def _history(session: Session, finding: Finding, actor: dict, field: str, old: Any, new: Any,
             justification: str | None = None) -> None:
    def text(v: Any) -> str | None:
        if v is None:
            return None
        return ",".join(v) if isinstance(v, list) else str(v)

    session.add(FindingHistory(finding_id=finding.id, actor=actor, field=field, from_value=text(old),
                               to_value=text(new), justification=justification, at=utcnow()))


def _emit_updated(session: Session, finding: Finding, asset: Asset, actor: dict, changes: list[str]) -> None:
    session.flush()
    events.record(session, workspace_id=finding.workspace_id, event="finding.updated", actor=actor,
                  asset_id=finding.asset_id, data={"finding": summ.summary(finding, asset), "changes": changes})


def _override(session: Session, finding: Finding, asset: Asset, body: FindingUpdate, actor: dict,
              settings: dict) -> list[str]:
    new = body.severity_override
    why = (body.severity_justification or "").strip()
    if new is not None:
        if not 10 <= len(why) <= 2000:
            raise validation_error("$.severity_justification", "a justification of 10-2000 characters is "
                                   "required with severity_override", "invalid_length")
        severity, reason = new, why
    else:
        if why:
            raise validation_error("$.severity_justification", "severity_justification goes with a "
                                   "severity_override", "not_allowed")
        severity, reason = scoring.classify(finding.original_severity, rules=settings["severity_rules"],
                                            asset=asset, scanner=finding.scanner, category=finding.category)
    if (new, severity, reason) == (finding.severity_override, finding.severity, finding.severity_reason):
        return []
    _history(session, finding, actor, "severity", finding.severity, severity, reason if new else None)
    changed = severity != finding.severity
    finding.severity_override, finding.severity, finding.severity_reason = new, severity, reason
    return ["severity", *rescore(session, finding, asset, settings)] if changed else ["severity"]


def update(session: Session, principal: Principal, finding: Finding, body: FindingUpdate) -> list[str]:
    """Apply a PATCH; one history row per changed field and one `finding.updated` event."""
    sent, actor = body.model_fields_set, principal.actor()
    asset = asset_of(session, finding)
    changes: list[str] = []
    if "severity_override" in sent:
        changes += _override(session, finding, asset, body, actor, _settings(session, finding))
    elif "severity_justification" in sent:
        raise validation_error("$.severity_justification", "severity_justification goes with "
                               "severity_override", "not_allowed")
    if "tags" in sent:
        tags = body.tags or []
        if tags != list(finding.tags or []):
            _history(session, finding, actor, "tags", list(finding.tags or []), tags)
            finding.tags = tags
            changes.append("tags")
    if "due_date" in sent and body.due_date != finding.due_date:
        _history(session, finding, actor, "due_date", finding.due_date, body.due_date)
        finding.due_date = body.due_date
        changes.append("due_date")
    if changes:
        _emit_updated(session, finding, asset, actor, changes)
        if "severity" in changes:
            scoring.recompute_asset(session, asset)
    return changes


def select_findings(session: Session, principal: Principal, body: Selection) -> list[Finding]:
    """The findings named by `ids` (all must be visible) or matched by `filter` (at most 10,000)."""
    if (body.ids is None) == (body.filter is None):
        raise validation_error("$.ids", "give either ids or filter", "required")
    r = repo(session, principal)
    if body.ids is not None:
        wanted: dict[str, int] = {}
        for i, raw in enumerate(body.ids):
            canon = parse_id(raw, "fnd")
            if canon is None:
                raise validation_error(f"$.ids[{i}]", "not a finding id", "invalid_id")
            wanted.setdefault(canon, i)
        rows = list(session.execute(r.select().options(defer(Finding.evidence))
                                    .where(Finding.id.in_(list(wanted)))).scalars())
        missing = sorted(set(wanted) - {f.id for f in rows}, key=wanted.get)
        if missing:
            raise validation_error(f"$.ids[{wanted[missing[0]]}]", f"{len(missing)} finding(s) not found: "
                                   f"{', '.join(missing[:20])}", "not_found")
        return sorted(rows, key=lambda f: wanted[f.id])
    filters = filters_from_body(body.filter, "$.filter")
    stmt = r.filtered(filters)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    if total > MAX_FILTER_SELECTION:
        raise validation_error("$.filter", f"the filter matches {total} findings; at most "
                               f"{MAX_FILTER_SELECTION:,} per request", "too_many")
    return list(session.execute(stmt.order_by(Finding.id)).scalars())


def bulk_set_status(session: Session, principal: Principal, rows: list[Finding], *, status: str,
                    justification: str | None, expires_at: datetime | None) -> dict[str, int]:
    """All or nothing: any finding that cannot make the move fails the whole request, naming every such id."""
    changing = [f for f in rows if f.status != status]
    bad = [f for f in changing if status not in lifecycle.TRANSITIONS.get(f.status, ())]
    if bad:
        raise lifecycle.InvalidTransition(
            f"{len(bad)} finding(s) cannot move to {status}; nothing was changed",
            details={"to": status, "ids": [f.id for f in bad],
                     "findings": [{"id": f.id, "from": f.status} for f in bad]})
    actor = principal.actor()
    for finding in changing:  # a bad justification fails on the first; the request's rollback undoes all
        lifecycle.change_status(session, finding, status=status, actor=actor, justification=justification,
                                expires_at=expires_at, recompute=False)
    _recompute_assets(session, changing)
    return {"matched": len(rows), "changed": len(changing), "unchanged": len(rows) - len(changing)}


def _recompute_assets(session: Session, findings: list[Finding]) -> None:
    for asset_id in sorted({f.asset_id for f in findings}):
        asset = session.get(Asset, asset_id)
        if asset is not None:
            scoring.recompute_asset(session, asset)


def check_assignee(session: Session, principal: Principal, assignee_id: str | None) -> str | None:
    if assignee_id is None:
        return None
    canon = parse_id(assignee_id, "usr")
    if canon is None or not workspace_service.is_member(session, principal.workspace_id, canon):
        raise validation_error("$.assignee_id", "assignee must be a member of the workspace", "not_a_member")
    return canon


def assign(session: Session, principal: Principal, finding: Finding, body: Assignment, assignee: str | None,
           asset: Asset | None = None) -> bool:
    """Set assignee (and due date when sent); history + one `finding.updated`. True when something changed."""
    actor, changes = principal.actor(), []
    if assignee != finding.assignee_id:
        _history(session, finding, actor, "assignee", finding.assignee_id, assignee)
        finding.assignee_id = assignee
        changes.append("assignee")
    if "due_date" in body.model_fields_set and body.due_date != finding.due_date:
        _history(session, finding, actor, "due_date", finding.due_date, body.due_date)
        finding.due_date = body.due_date
        changes.append("due_date")
    if changes:
        _emit_updated(session, finding, asset or asset_of(session, finding), actor, changes)
    return bool(changes)


def bulk_assign(session: Session, principal: Principal, rows: list[Finding], body: Assignment) -> dict[str, int]:
    assignee = check_assignee(session, principal, body.assignee_id)
    changed = sum(assign(session, principal, f, body, assignee) for f in rows)
    return {"matched": len(rows), "changed": changed, "unchanged": len(rows) - changed}
