"""Severity bands and re-classification (6.8), risk score (6.9), SLA (6.7) and the asset security score (7)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from s4e_platform.asset.models import Asset
from s4e_platform.finding.models import ACTIVE_STATUSES, SEVERITIES, Finding

_RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}  # info 0 .. critical 4
_BASE = {"critical": 9.5, "high": 7.5, "medium": 5.0, "low": 2.5}
_PENALTY = {"critical": 25, "high": 10, "medium": 4, "low": 1, "info": 0}


def severity_from_cvss(score: float) -> str:
    """CVSS v3.1/v4.0 bands."""
    if score <= 0:
        return "info"
    if score < 4.0:
        return "low"
    if score < 7.0:
        return "medium"
    if score < 9.0:
        return "high"
    return "critical"


def _asset_matches(selector: dict, asset: Asset) -> bool:
    """OR across the selector keys given; an empty selector matches every asset."""
    if not selector:
        return True
    tags = set(asset.tags or [])
    tests = []
    if "criticality" in selector:
        tests.append(asset.criticality in selector["criticality"])
    if "tags_any" in selector:
        tests.append(bool(tags & set(selector["tags_any"])))
    if "tags_all" in selector:
        tests.append(set(selector["tags_all"]) <= tags)
    if "network_zone" in selector:
        zones = selector["network_zone"]
        tests.append(asset.network_zone in (zones if isinstance(zones, list) else [zones]))
    return any(tests)


def _apply(action: dict, severity: str) -> str:
    if "set" in action:
        return action["set"]
    if severity == "info":  # info moves only through `set`
        return severity
    rank = _RANK[severity] + int(action.get("shift", 0))
    if int(action.get("shift", 0)) < 0 and severity == "critical":
        return severity  # lowering never touches critical
    return SEVERITIES[len(SEVERITIES) - 1 - max(_RANK["low"], min(_RANK["critical"], rank))]


def classify(severity: str, *, rules: list[dict], asset: Asset, scanner: str, category: str) -> tuple[str, str | None]:
    """Effective severity and the id of the rule that set it (first enabled match wins)."""
    for rule in rules or []:
        if not rule.get("enabled", True) or not _asset_matches(rule.get("when_asset") or {}, asset):
            continue
        if rule.get("scanners") and scanner not in rule["scanners"]:
            continue
        if rule.get("categories") and category not in rule["categories"]:
            continue
        if rule.get("severities") and severity not in rule["severities"]:
            continue
        new = _apply(rule.get("action") or {}, severity)
        if new != severity:
            return new, rule.get("id")
        return severity, None
    return severity, None


def risk_score(*, severity: str, cvss: float | None, criticality: str, network_zone: str,
               epss_percentile: float | None, kev: bool, weights: dict) -> int:
    """`min(100, round(10 x B x C x X x (1 + f x P) + K))`, 0 for info."""
    if severity == "info":
        return 0
    base = cvss if cvss is not None else _BASE[severity]
    crit = weights["criticality"].get(criticality, 0.8)
    exposure = weights["exposure"].get(network_zone, 1.0)
    factor = 1 + weights.get("epss_factor", 0.25) * (epss_percentile or 0.0)
    bonus = weights.get("kev_bonus", 15) if kev else 0
    return min(100, round(10 * base * crit * exposure * factor + bonus))


def sla_due(severity: str, start: datetime, sla_days: dict) -> datetime | None:
    """Remediation deadline from `start` (discovery or the last reopen); None for info."""
    days = sla_days.get(severity)
    return start + timedelta(days=days) if days else None


def security_score(penalty: float) -> int:
    return round(100 * math.exp(-penalty / 40))


def penalty(severity: str, *, kev: bool, status: str) -> float:
    """One finding's share of the asset penalty (section 7)."""
    if status == "accepted_risk":
        weight = 0.5
    elif status in ACTIVE_STATUSES:
        weight = 1.0
    else:
        return 0.0
    return _PENALTY[severity] * (2 if kev else 1) * weight


def grade(score: int) -> str:
    for limit, letter in ((90, "A"), (75, "B"), (60, "C"), (40, "D")):
        if score >= limit:
            return letter
    return "F"


def recompute_asset(session: Session, asset: Asset) -> None:
    """Refresh `risk_score`, `security_score` and `finding_summary` from the asset's findings in one aggregate."""
    counted = (*ACTIVE_STATUSES, "accepted_risk")
    active = case((Finding.status.in_(ACTIVE_STATUSES), 1), else_=0)
    rows = session.execute(
        select(Finding.severity, Finding.kev, Finding.status, func.count(),
               func.max(case((Finding.status.in_(ACTIVE_STATUSES), Finding.risk_score), else_=0)), func.sum(active))
        .where(Finding.workspace_id == asset.workspace_id, Finding.asset_id == asset.id,
               Finding.status.in_(counted))
        .group_by(Finding.severity, Finding.kev, Finding.status)).all()
    summary = dict.fromkeys(SEVERITIES, 0)
    total_penalty, top_risk = 0.0, 0
    for severity, kev, status, count, max_risk, active_count in rows:
        total_penalty += penalty(severity, kev=bool(kev), status=status) * count
        summary[severity] += int(active_count or 0)
        top_risk = max(top_risk, int(max_risk or 0))
    asset.finding_summary = summary
    asset.security_score = security_score(total_penalty)
    asset.risk_score = top_risk
