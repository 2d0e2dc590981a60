"""Importing results a team already has: `nmap -oX` output becomes a completed port scan of one asset.

The import is recorded like a scan the platform ran (a `scan` with one `port_scan` task, services with
`source: nmap_import`, the port scanner's exposure findings, scan.* events) so findings trace back to it and dedup
against later platform scans by fingerprint. Only hosts that belong to the asset are taken: its address, the
addresses inside a network asset, or, for a domain/URL, the addresses it resolved to and matching nmap host names.
An import never resolves findings: the file does not say reliably which ports nmap probed, so the task is
`partial` (scanning.md 6.5 resolves only from `completed` runs).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from s4e_platform.asset.models import Asset
from s4e_platform.errors import Unprocessable
from s4e_platform.event import service as events
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.ids import new_id
from s4e_platform.scan import progress, runner_record
from s4e_platform.scan.models import PRIORITIES, Scan, ScanTask
from s4e_platform.scan.runner import Claim
from s4e_platform.scanners.base import ScanIssue, ScanResult
from s4e_platform.scanners.portscan.nmap_xml import NmapHost, NmapImport, NmapImportError, parse_nmap_xml

SCANNER = "port_scan"


class InvalidImport(Unprocessable):
    code = "invalid_import"


def _hostname(asset: Asset) -> str | None:
    if asset.type == "domain":
        return asset.name.lower()
    if asset.type == "url":
        return (urlsplit(asset.name).hostname or "").lower() or None
    return None


def belongs(asset: Asset, host: NmapHost) -> bool:
    """Whether an nmap host is (part of) the asset."""
    ip = ipaddress.ip_address(host.ip)
    if asset.type == "ip":
        return ip == ipaddress.ip_address(asset.name)
    if asset.type == "network":
        net = ipaddress.ip_network(asset.name, strict=False)
        return ip.version == net.version and ip in net
    known = {str(a) for a in (asset.meta or {}).get("ip_addresses") or []}
    name = _hostname(asset)
    return host.ip in known or (name is not None and name in {h.lower().rstrip(".") for h in host.hostnames})


def import_nmap(session: Session, *, asset: Asset, data: bytes, triggered_by: dict, created_by: str | None,
                actor: dict) -> tuple[Scan, dict]:
    """Record an nmap XML file as a completed port scan of `asset`; returns the scan and a report."""
    try:
        parsed = parse_nmap_xml(data)
    except NmapImportError as exc:
        raise InvalidImport(exc.message, details=[{"path": "$", "code": exc.code, "message": exc.message}]) from None
    taken = [h for h in parsed.hosts if belongs(asset, h)]
    skipped = sorted({h.ip for h in parsed.hosts if h not in taken})
    if not taken:
        raise InvalidImport("no host of the file belongs to this asset",
                            details=[{"path": "$", "code": "no_matching_host",
                                      "message": f"hosts in the file: {', '.join(skipped[:20]) or 'none'}"}])
    now = utcnow()
    scan, task = _scan_rows(session, asset, triggered_by=triggered_by, created_by=created_by, actor=actor, now=now)
    mine = NmapImport(hosts=taken, nmap_version=parsed.nmap_version, args=parsed.args)
    services = mine.services
    result = ScanResult(scanner=SCANNER, status="partial", started_at=now, finished_at=now, services=services,
                        findings=mine.findings(),
                        issues=[ScanIssue("imported", f"imported from nmap {parsed.nmap_version or ''}".strip())],
                        stats={"source": "nmap_import", "nmap_version": parsed.nmap_version,
                               "nmap_args": parsed.args, "hosts": len(taken), "skipped_hosts": skipped[:100]})
    claim = Claim(task_id=task.id, scan_id=scan.id, workspace_id=asset.workspace_id, asset_id=asset.id,
                  scanner=SCANNER, target=dict(task.target), options={}, network_zone=asset.network_zone,
                  attempt=1, worker_id="nmap-import", deadline_at=None)
    runner_record.record(session, task, claim, result)
    progress.refresh(session, scan.id, now=now)
    report = {"hosts": len(taken), "skipped_hosts": skipped, "services": len(services),
              "open_services": sum(1 for s in services if s.state == "open"),
              "finding_counts": {k: v for k, v in (task.finding_counts or {}).items() if k != "by_severity"}}
    return scan, report


def _scan_rows(session: Session, asset: Asset, *, triggered_by: dict, created_by: str | None, actor: dict,
               now: datetime) -> tuple[Scan, ScanTask]:
    scan = Scan(id=new_id("scn"), workspace_id=asset.workspace_id, asset_id=asset.id, profile_id=None,
                scan_type="port", scanners=[SCANNER], options={}, priority="normal", status="queued", progress=0,
                finding_counts={}, task_summary={}, triggered_by=dict(triggered_by), error=None, agent_ids=[],
                post_actions=[], created_by=created_by)
    session.add(scan)
    session.flush()
    task = ScanTask(id=new_id("tsk"), workspace_id=asset.workspace_id, scan_id=scan.id, asset_id=asset.id,
                    scanner=SCANNER, target={"type": asset.type, "value": asset.name}, route="platform",
                    queue="scans", priority_rank=PRIORITIES["normal"], weight=1.0, status="running", attempts=1,
                    max_attempts=1, progress=0.0, phase="port_scanning", worker="nmap-import", coverage={},
                    stats={}, finding_counts={}, raw_output="", created_at=now, dispatched_at=now, started_at=now)
    session.add(task)
    events.record(session, workspace_id=asset.workspace_id, event="scan.created",
                  data={"scan_id": scan.id, "asset_id": asset.id, "scan_type": "port", "profile_id": None,
                        "priority": "normal", "triggered_by": scan.triggered_by}, actor=actor, asset_id=asset.id)
    session.flush()
    return scan, task
