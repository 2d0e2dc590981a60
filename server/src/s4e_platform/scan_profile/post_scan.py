"""Post-scan actions of a profile (scanning.md 3): evaluated once when a profile's scan becomes terminal.

`on: completed | failed` match the scan's final status; `new_findings` matches a completed scan with at least one
new or reopened finding passing `conditions` (`min_severity`, `categories`, `kev`). Each action is recorded on
`scan.post_actions` as `{on, target, matched_findings, status, reason}`.

The automation engine (actions, playbooks) plugs in through `register_handler(fn)`: a handler is called with
`(session, scan, action, findings)` inside the transaction that finished the scan, and its return value sets the
recorded status (`"queued"`, or `{"status": ..., "reason": ...}`). Without a handler the action is recorded as
`pending` with reason `automation engine not installed`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from s4e_platform.finding.models import Finding, FindingHistory, FindingSighting
from s4e_platform.scan.models import Scan
from s4e_platform.scan_profile.models import ScanProfile

log = logging.getLogger("s4e.scan_profile")

SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
MAX_MATCHED_IDS = 1000  # ids listed per action; `matched_count` has the full number
NO_ENGINE = "automation engine not installed"

Handler = Callable[[Session, Scan, dict, list[Finding]], Any]
_handlers: list[Handler] = []


def register_handler(fn: Handler) -> Handler:
    """Add a handler of post-scan actions (usable as a decorator); registering twice has no effect."""
    if fn not in _handlers:
        _handlers.append(fn)
    return fn


def unregister_handler(fn: Handler) -> None:
    if fn in _handlers:
        _handlers.remove(fn)


def new_findings(session: Session, scan: Scan) -> list[Finding]:
    """Findings this scan created, plus those it reopened: a `reopened` history row written at the same instant as
    one of this scan's sightings of the finding (ingestion stamps both with its clock)."""
    first = select(Finding.id).where(Finding.workspace_id == scan.workspace_id, Finding.scan_id == scan.id)
    reopened = (select(FindingHistory.finding_id)
                .join(FindingSighting, and_(FindingSighting.finding_id == FindingHistory.finding_id,
                                            FindingSighting.seen_at == FindingHistory.at))
                .where(FindingSighting.scan_id == scan.id, FindingHistory.field == "status",
                       FindingHistory.to_value == "reopened"))
    ids = set(session.execute(first).scalars()) | set(session.execute(reopened).scalars())
    if not ids:
        return []
    rows: list[Finding] = []
    ordered = sorted(ids)
    for i in range(0, len(ordered), 500):
        rows.extend(session.execute(select(Finding).where(Finding.id.in_(ordered[i:i + 500]))).scalars())
    return sorted(rows, key=lambda f: (-SEVERITY_RANK.get(f.severity, 0), f.id))


def matches(finding: Finding, conditions: dict) -> bool:
    floor = conditions.get("min_severity")
    if floor and SEVERITY_RANK.get(finding.severity, 0) < SEVERITY_RANK[floor]:
        return False
    categories = conditions.get("categories")
    if categories and finding.category not in categories:
        return False
    kev = conditions.get("kev")
    return kev is None or bool(finding.kev) == kev


def _fires(action: dict, scan: Scan, matched: list[Finding]) -> bool:
    on = action.get("on")
    if on == "new_findings":
        return scan.status == "completed" and bool(matched)
    return on == scan.status


def _target(action: dict) -> dict:
    if action.get("playbook_id"):
        return {"playbook_id": action["playbook_id"]}
    return {"action_ref": action.get("action_ref")}


def _dispatch(session: Session, scan: Scan, action: dict, findings: list[Finding]) -> tuple[str, str | None]:
    if not _handlers:
        return "pending", NO_ENGINE
    status, reason = "pending", None
    for handler in list(_handlers):
        try:
            result = handler(session, scan, action, findings)
        except Exception as exc:  # noqa: BLE001 - one broken handler must not stop the scan from finishing
            log.exception("post-scan handler %r failed for scan %s", handler, scan.id)
            return "failed", f"{type(exc).__name__}: {exc}"[:500]
        if isinstance(result, dict):
            status, reason = str(result.get("status") or status), result.get("reason")
        elif isinstance(result, str):
            status, reason = result, None
    return status, reason


def on_scan_finished(session: Session, scan: Scan) -> list[dict]:
    """Evaluate the profile's post-scan actions once for a terminal scan; returns what was recorded."""
    if scan.profile_id is None or scan.post_actions or scan.status not in ("completed", "failed"):
        return list(scan.post_actions or [])
    profile = session.get(ScanProfile, scan.profile_id)
    if profile is None or not profile.post_scan_actions:
        return []
    found = new_findings(session, scan)
    recorded: list[dict] = []
    for action in profile.post_scan_actions:
        matched = [f for f in found if matches(f, action.get("conditions") or {})]
        if not _fires(action, scan, matched):
            continue
        status, reason = _dispatch(session, scan, action, matched)
        recorded.append({"on": action.get("on"), "target": _target(action),
                         "matched_findings": [f.id for f in matched[:MAX_MATCHED_IDS]],
                         "matched_count": len(matched), "parameters": action.get("parameters") or {},
                         "status": status, "reason": reason})
    scan.post_actions = recorded
    return recorded
