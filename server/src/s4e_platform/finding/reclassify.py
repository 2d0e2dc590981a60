"""Re-applying severity rules and risk weights after the inputs change (scanning.md 6.8, 6.9).

Ingestion classifies each finding once; when an asset's criticality or tags change, or the workspace's
`severity_rules` / `risk_weights` change, the effective severity and risk of existing findings must follow.
A manual `severity_override` always wins and is left alone. Changed severities get a history row and one
`finding.updated` (`changes: ["severity"]`); a risk score that moves alone is refreshed silently (events.md lists
no risk change).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from s4e_platform.asset.models import Asset
from s4e_platform.event import service as events
from s4e_platform.finding import scoring
from s4e_platform.finding import service as finding_service
from s4e_platform.finding import summary as summ
from s4e_platform.finding.models import Finding, FindingHistory
from s4e_platform.kit.clock import utcnow
from s4e_platform.workspace.models import Workspace
from s4e_platform.workspace.service import settings_of

SYSTEM_RULES = {"type": "system", "id": None, "name": "severity_rules"}


def reclassify_assets(session: Session, *, workspace_id: str, asset_ids: list[str] | None = None,
                      actor: dict | None = None) -> int:
    """Recompute severity and risk of the findings of `asset_ids` (all assets of the workspace when None).
    Returns how many findings changed severity."""
    settings = settings_of(session.get(Workspace, workspace_id))
    stmt = select(Asset).where(Asset.workspace_id == workspace_id)
    if asset_ids is not None:
        if not asset_ids:
            return 0
        stmt = stmt.where(Asset.id.in_(asset_ids))
    changed = 0
    for asset in session.execute(stmt.order_by(Asset.id)).scalars():
        changed += _reclassify_asset(session, asset, settings, actor or SYSTEM_RULES)
    return changed


def _reclassify_asset(session: Session, asset: Asset, settings: dict, actor: dict) -> int:
    rows = session.execute(select(Finding).where(Finding.workspace_id == asset.workspace_id,
                                                 Finding.asset_id == asset.id).order_by(Finding.id)).scalars().all()
    now = utcnow()
    changed, risk_only = 0, []
    for f in rows:
        severity, reason = f.severity, f.severity_reason
        if f.severity_override is None:
            severity, reason = scoring.classify(f.original_severity, rules=settings["severity_rules"], asset=asset,
                                                scanner=f.scanner, category=f.category)
        risk = scoring.risk_score(severity=severity, cvss=f.cvss, criticality=asset.criticality,
                                  network_zone=asset.network_zone, epss_percentile=f.epss_percentile, kev=f.kev,
                                  weights=settings["risk_weights"])
        if severity == f.severity:
            if risk != f.risk_score or reason != f.severity_reason:
                risk_only.append({"fid": f.id, "risk": risk, "reason": reason})
            continue
        old = f.severity
        f.severity, f.severity_reason = severity, reason
        # Risk and SLA follow exactly as after a manual override (reopen start, paused clock, breach flag).
        changes = ["severity", *finding_service.rescore(session, f, asset, settings)]
        session.add(FindingHistory(finding_id=f.id, actor=actor, field="severity", from_value=old, to_value=severity,
                                   justification=reason, at=now))
        session.flush()
        events.record(session, workspace_id=asset.workspace_id, event="finding.updated", actor=actor,
                      asset_id=asset.id, data={"finding": summ.summary(f, asset), "changes": changes})
        changed += 1
    if risk_only:
        session.execute(update(Finding.__table__).where(Finding.__table__.c.id == bindparam("fid"))
                        .values(risk_score=bindparam("risk"), severity_reason=bindparam("reason")), risk_only)
    if changed or risk_only:
        scoring.recompute_asset(session, asset)
    return changed
