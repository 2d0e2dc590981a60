"""Recording a finished run in the task's transaction: inventory, findings, auto-resolve, the task row."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from s4e_platform.asset.models import Asset
from s4e_platform.finding import ingest
from s4e_platform.finding.fingerprint import fingerprint
from s4e_platform.finding.models import Finding, FindingSighting
from s4e_platform.inventory import discovery, store
from s4e_platform.kit.clock import utcnow
from s4e_platform.scan import follow_up
from s4e_platform.scan.models import ScanTask
from s4e_platform.scanners.base import ScanResult

if TYPE_CHECKING:
    from s4e_platform.scan.runner import Claim

STATUSES = ("completed", "partial", "cancelled", "failed")


def record(session: Session, task: ScanTask, claim: Claim, result: ScanResult) -> None:
    """Everything the run produced, then the task's own result. The caller refreshes the scan afterwards."""
    asset = session.get(Asset, claim.asset_id)
    status = result.status if result.status in STATUSES else "failed"
    if result.services:
        store.record_services(session, asset=asset, scan_id=claim.scan_id, services=result.services)
        if claim.scanner == "port_scan":
            follow_up.after_port_scan(session, asset=asset, scan_id=claim.scan_id)
    if result.discovered_assets:
        discovery.record_discovered(session, parent=asset, observations=result.discovered_assets,
                                    scan_id=claim.scan_id, scanner=claim.scanner)
    if result.asset_metadata:
        store.merge_asset_metadata(session, asset, result.asset_metadata)
    if result.technologies:
        store.merge_technologies(session, asset, result.technologies)
    counts = {"new": 0, "reopened": 0, "seen": 0}
    if result.findings:
        counts = ingest.ingest(session, workspace_id=claim.workspace_id, asset=asset, scanner=claim.scanner,
                               scan_id=claim.scan_id, task_id=claim.task_id, candidates=result.findings)
    resolved = 0
    if status == "completed":  # never partial, failed or cancelled runs (scanning.md 6.5)
        resolved = ingest.auto_resolve(session, workspace_id=claim.workspace_id, asset_id=asset.id,
                                       scanner=claim.scanner, task_id=claim.task_id,
                                       executed_checks=result.coverage.get("checks") or [],
                                       coverage=result.coverage, scan_id=claim.scan_id)
    now = utcnow()
    task.status, task.finished_at, task.lease_until = status, now, None
    task.progress = 1.0 if status in ("completed", "partial") else task.progress
    task.coverage = dict(result.coverage or {})
    issues = [dataclasses.asdict(i) for i in result.issues]
    task.stats = {**(result.stats or {}), "issues": issues} if issues else dict(result.stats or {})
    task.finding_counts = {**counts, "resolved": resolved, "by_severity": by_severity(session, claim.task_id)}
    task.error = _error(result, issues) if status == "failed" else None
    task.raw_output = result.raw_output or json_lines(claim, result)
    asset.last_scan_at, asset.last_scan_id = now, claim.scan_id


def _error(result: ScanResult, issues: list[dict]) -> dict:
    if issues:
        return {"code": issues[0]["code"], "message": issues[0]["message"][:1000]}
    return {"code": "scan_failed", "message": f"{result.scanner} could not scan the target"}


def by_severity(session: Session, task_id: str) -> dict[str, int]:
    """Findings this task saw, by their effective severity (after the workspace's severity rules)."""
    s = FindingSighting.__table__
    rows = session.execute(select(Finding.severity, func.count(func.distinct(Finding.id)))
                           .join(s, s.c.finding_id == Finding.id).where(s.c.task_id == task_id)
                           .group_by(Finding.severity)).all()
    return {severity: int(n) for severity, n in rows}


def json_lines(claim: Claim, result: ScanResult) -> str:
    """Raw output for scanners that give none: one JSON line per finding candidate and per service."""
    meta = {"scan_id": claim.scan_id, "task_id": claim.task_id, "asset_id": claim.asset_id}
    lines = []
    for svc in result.services:
        lines.append({"type": "service", **svc.to_dict(), "s4e": meta})
    for c in result.findings:
        fp = fingerprint(asset_id=claim.asset_id, scanner=claim.scanner, check_id=c.check_id, location=c.location,
                         discriminator=c.discriminator)
        lines.append({"type": "finding", **c.to_dict(), "s4e": {**meta, "fingerprint": fp}})
    return "".join(json.dumps(line, separators=(",", ":"), ensure_ascii=False, default=str) + "\n"
                   for line in lines)
