"""Scan business rules: which scanners a scan runs, eligibility, creation with its tasks, cancel, rerun, reads.

`create_scan` is the one way a scan comes to exist (API, profiles, playbooks, discovery follow-ups): it validates,
writes the scan, its tasks and `scan.created` in the caller's transaction, and wakes the release loop after commit.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from sqlalchemy.orm import Session

from s4e_platform.asset.models import Asset
from s4e_platform.auth.principal import Principal
from s4e_platform.errors import NotFound, validation_error
from s4e_platform.event import service as events
from s4e_platform.kit import netsafety
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.ids import new_id, parse_id
from s4e_platform.scan import dispatcher, progress
from s4e_platform.scan import options as scan_options
from s4e_platform.scan.errors import AssetNotVerified, ScanNotCancellable
from s4e_platform.scan.models import PRIORITIES, SCAN_TERMINAL, SCAN_TYPES, Scan
from s4e_platform.scan.repository import ESTIMATE_SAMPLE, ScanRepository
from s4e_platform.scanners import registry
from s4e_platform.worker.release import wake_after_commit

# scanning.md 1.2. Scanners that do not exist yet are named anyway: a type resolves to those that exist, so the
# scan's `scanners` lists only what really runs.
TYPE_SCANNERS: dict[str, tuple[str, ...]] = {
    "quick": ("port_scan", "tls", "tech_fingerprint", "template_engine", "cve_match"),
    "port": ("port_scan",),
    "ssl": ("tls",),
    "dns": ("dns", "email_security", "subdomain_discovery"),
    "web": ("http_headers", "exposed_files", "tech_fingerprint", "crawler", "template_engine", "cve_match"),
    "crawl": ("crawler",),
    "api_discovery": ("api_discovery", "crawler"),
}
# Pipeline order of `full` and category scans (later scanners use what earlier ones observed).
ORDER = ("port_scan", "tls", "http_headers", "exposed_files", "tech_fingerprint", "dns", "email_security",
         "subdomain_discovery", "crawler", "content_discovery", "api_discovery", "template_engine", "cve_match")
# Option defaults a scan type implies for one of its scanners, unless the caller set the key.
TYPE_DEFAULTS: dict[tuple[str, str], dict[str, Any]] = {
    ("quick", "port_scan"): {"ports": "top-100"},
    ("quick", "template_engine"): {"template_severity": ["critical", "high"]},
    ("web", "crawler"): {"max_depth": 2},
}
CALLBACK_DNS_TIMEOUT = 3.0


def _ordered(ids: set[str]) -> list[str]:
    return [s for s in ORDER if s in ids] + sorted(ids - set(ORDER))


def _applicable(scanner_id: str, asset_type: str) -> bool:
    scanner = registry.get(scanner_id)
    return scanner is not None and asset_type in scanner.target_types


def _explicit(asset_type: str, scanners: list[str]) -> list[str]:
    out: list[str] = []
    for i, scanner_id in enumerate(scanners):
        scanner = registry.get(scanner_id) if isinstance(scanner_id, str) else None
        if scanner is None:
            raise validation_error(f"$.scanners[{i}]", f"unknown scanner {scanner_id!r} (see GET /scanners)",
                                   "unknown_scanner")
        if asset_type not in scanner.target_types:
            raise validation_error(f"$.scanners[{i}]", f"{scanner_id} cannot scan a {asset_type} asset (it scans "
                                   f"{', '.join(scanner.target_types)})", "unsupported_target")
        if scanner_id not in out:
            out.append(scanner_id)
    return out


def resolve_scanners(asset_type: str, scan_type: str, scanners: list[str] | None,
                     options: dict[str, Any] | None) -> list[str]:
    """The scanners a scan of `scan_type` on an asset of `asset_type` runs, in pipeline order. 422 when the
    combination is invalid or would run nothing."""
    options = options or {}
    if scan_type not in SCAN_TYPES:
        raise validation_error("$.scan_type", f"scan_type must be one of {', '.join(SCAN_TYPES)}", "enum")
    categories = scan_options.categories(options)
    if scan_type != "custom":
        if scanners:
            raise validation_error("$.scanners", "scanners are chosen by the scan type; give them only for "
                                   "scan_type custom", "not_allowed")
        if options.get("categories") is not None:
            raise validation_error("$.options.categories", "categories apply to scan_type custom only",
                                   "not_allowed")
    if scan_type == "custom":
        if scanners and options.get("categories"):
            raise validation_error("$.options.categories", "give scanners or options.categories, not both",
                                   "not_allowed")
        if scanners:
            return _explicit(asset_type, list(scanners))
        if not categories:
            raise validation_error("$.scanners", "a custom scan needs scanners or options.categories", "required")
        wanted = {s.id for s in registry.all_scanners() if s.category in categories}
    elif scan_type == "full":
        wanted = {s.id for s in registry.all_scanners()}
        if not options.get("enable_bruteforce"):
            wanted.discard("content_discovery")
    else:
        wanted = set(TYPE_SCANNERS[scan_type])
    resolved = _ordered({s for s in wanted if _applicable(s, asset_type)})
    if not resolved:
        raise validation_error("$.scan_type", f"no available scanner of a {scan_type} scan can scan a "
                               f"{asset_type} asset", "no_applicable_scanner")
    return resolved


def check_eligible(asset: Asset, scanners: list[str]) -> None:
    """Active scanners need a verified asset (scanning.md 1.1); agent coverage will be the other way in."""
    if asset.verified:
        return
    active = [s for s in scanners if getattr(registry.get(s), "active", True)]
    if active:
        raise AssetNotVerified(active)


def check_callback_url(url: str | None) -> str | None:
    """https only, through the outbound SSRF guard (like webhook URLs); then refused until callbacks exist."""
    if url is None:
        return None
    try:
        target = netsafety.check_for_save(url, timeout=CALLBACK_DNS_TIMEOUT)
    except netsafety.UnsafeURL as exc:
        raise validation_error("$.callback_url", exc.message, exc.code) from None
    if target.scheme != "https":
        raise validation_error("$.callback_url", "callback_url must use https", "insecure_scheme")
    # Calling it back (signed with a workspace callback secret) is not built yet; accepting the URL and never
    # calling it would fail silently, so a valid URL is refused for now.
    raise validation_error("$.callback_url", "scan callbacks are not available yet: subscribe a webhook to "
                           "scan.completed and scan.failed instead", "not_supported")


def _options_for(scan_type: str, scanners: list[str], options: dict[str, Any]) -> dict[str, Any]:
    out = dict(options)
    for scanner_id in scanners:
        for key, value in TYPE_DEFAULTS.get((scan_type, scanner_id), {}).items():
            out.setdefault(key, value)
    out.setdefault("timeout", scan_options.DEFAULT_TIMEOUT)
    return out


_SYSTEM_NAMES = {"schedule": "scheduler", "playbook": "playbook", "discovery": "scanner", "rerun": "scanner"}


def _actor(triggered_by: dict) -> dict:
    kind = triggered_by.get("type")
    if kind in ("user", "api_key", "oauth_client"):
        return {"type": kind, "id": triggered_by.get("id"), "name": None}
    return {"type": "system", "id": None, "name": _SYSTEM_NAMES.get(kind, "scanner")}


def create_scan(session: Session, *, asset: Asset, scan_type: str, scanners: list[str] | None = None,
                options: dict[str, Any] | None = None, priority: str = "normal", triggered_by: dict,
                created_by: str | None, profile_id: str | None = None, rerun_of: str | None = None,
                callback_url: str | None = None, actor: dict | None = None) -> Scan:
    """Validate, write the scan with its tasks and `scan.created`; the release loop wakes after commit.
    `actor` (events.md 1.1) defaults to one derived from `triggered_by`. Never commits."""
    if priority not in PRIORITIES:
        raise validation_error("$.priority", "priority must be low, normal or high", "enum")
    opts = scan_options.check_common(options)
    resolved = resolve_scanners(asset.type, scan_type, scanners, opts)
    opts = _options_for(scan_type, resolved, opts)
    scan_options.check_scanners(opts, resolved)
    check_eligible(asset, resolved)
    dispatcher.check_size(asset, resolved)
    callback = check_callback_url(callback_url)
    scan = Scan(id=new_id("scn"), workspace_id=asset.workspace_id, asset_id=asset.id, profile_id=profile_id,
                scan_type=scan_type, scanners=resolved, options=opts, priority=priority, status="queued",
                progress=0, current_phase=None, finding_counts={}, triggered_by=dict(triggered_by),
                rerun_of=rerun_of, callback_url=callback, error=None, agent_ids=[], post_actions=[],
                created_by=created_by)
    tasks = dispatcher.expand(scan, asset)
    scan.task_summary = progress.summarize(tasks)
    session.add(scan)
    session.flush()
    session.add_all(tasks)
    events.record(session, workspace_id=scan.workspace_id, event="scan.created",
                  data={"scan_id": scan.id, "asset_id": asset.id, "scan_type": scan_type, "profile_id": profile_id,
                        "priority": priority, "triggered_by": scan.triggered_by},
                  actor=actor or _actor(triggered_by), asset_id=asset.id)
    wake_after_commit(session)
    return scan


def cancel(session: Session, scan: Scan, *, actor: dict) -> Scan:
    """Stop a scan: pending tasks are cancelled now, running ones at their next stop check (<= 5 s)."""
    # Lock (and re-read) the row first, in the order progress.refresh uses: a last task finishing at this very
    # moment either completes the scan before us (409 here) or sees it cancelled.
    scan = progress.lock_scan(session, scan.id) or scan
    if scan.status in SCAN_TERMINAL:
        raise ScanNotCancellable(f"The scan is already {scan.status}", details={"status": scan.status})
    now = utcnow()
    ScanRepository(session, scan.workspace_id).cancel_pending_tasks(scan.id, now)
    scan.status = "cancelled"
    scan.cancel_requested_at = now
    scan.cancelled_by = dict(actor)
    scan.finished_at = now
    progress.refresh(session, scan.id)  # terminal now: refreshes task_summary and finding_counts only
    events.record(session, workspace_id=scan.workspace_id, event="scan.cancelled",
                  data={"scan_id": scan.id, "asset_id": scan.asset_id, "cancelled_by": dict(actor)},
                  actor=actor, asset_id=scan.asset_id)
    return scan


def principal_trigger(principal: Principal) -> dict:
    return {"type": principal.type, "id": principal.id}


def create_for(session: Session, principal: Principal, body) -> Scan:
    """POST /scans: the asset must be visible to the caller (422 otherwise, like any dangling body id)."""
    from s4e_platform.asset import service as asset_service

    asset = asset_service.repo(session, principal).get(parse_id(body.asset_id, "ast"))
    if asset is None:
        raise validation_error("$.asset_id", "asset not found", "not_found")
    return create_scan(session, asset=asset, scan_type=body.scan_type, scanners=body.scanners,
                       options=body.options, priority=body.priority, triggered_by=principal_trigger(principal),
                       created_by=principal.user_id, callback_url=body.callback_url, actor=principal.actor())


def rerun(session: Session, principal: Principal, scan: Scan) -> Scan:
    """A new scan with the same asset, type, scanners, options and priority, validated again (the asset may
    have lost its verification, a scanner may be gone)."""
    asset = session.get(Asset, scan.asset_id)
    if asset is None:
        raise NotFound("The scanned asset no longer exists")
    return create_scan(session, asset=asset, scan_type=scan.scan_type,
                       scanners=list(scan.scanners) if scan.scan_type == "custom" else None,
                       options=dict(scan.options or {}), priority=scan.priority,
                       triggered_by={"type": "rerun", "id": scan.id}, created_by=principal.user_id,
                       rerun_of=scan.id, callback_url=scan.callback_url, actor=principal.actor())


# Reading ----------------------------------------------------------------------------------------------------

def repo(session: Session, principal: Principal) -> ScanRepository:
    return ScanRepository(session, principal.workspace_id, principal.asset_restriction)


def get(session: Session, principal: Principal, scan_id: str) -> Scan:
    scan = repo(session, principal).get(parse_id(scan_id, "scn"))
    if scan is None:
        raise NotFound("Scan not found")
    return scan


def estimates(r: ScanRepository, scans: list[Scan]) -> dict[str, int | None]:
    """Estimated minutes per scan: the median of the latest completed scans of its type (itself excluded)."""
    cache: dict[str, list[tuple[str, float]]] = {}
    out: dict[str, int | None] = {}
    for scan in scans:
        if scan.scan_type not in cache:
            cache[scan.scan_type] = r.durations(scan.scan_type)
        sample = [d for sid, d in cache[scan.scan_type] if sid != scan.id][:ESTIMATE_SAMPLE]
        out[scan.id] = math.ceil(statistics.median(sample) / 60) if sample else None
    return out


def duration_seconds(scan: Scan) -> int | None:
    if scan.started_at is None:
        return None
    end = scan.finished_at or utcnow()
    return max(0, int((end - scan.started_at).total_seconds()))


def task_summary(scan: Scan) -> dict[str, int]:
    base = {"total": 0, "queued": 0, "running": 0, "completed": 0, "failed": 0, "cancelled": 0}
    base.update({k: v for k, v in (scan.task_summary or {}).items() if k in base})
    return base


def to_read(scan: Scan, asset: Asset | None, estimate: int | None) -> dict:
    return {
        "id": scan.id, "asset_id": scan.asset_id,
        "asset": {"id": scan.asset_id, "name": asset.name if asset else "", "type": asset.type if asset else ""},
        "profile_id": scan.profile_id, "scan_type": scan.scan_type, "scanners": list(scan.scanners or []),
        "options": scan.options or {}, "priority": scan.priority, "status": scan.status,
        "progress": int(scan.progress or 0), "current_phase": scan.current_phase, "task_summary": task_summary(scan),
        "finding_counts": scan.finding_counts or {}, "triggered_by": scan.triggered_by, "rerun_of": scan.rerun_of,
        "callback_url": scan.callback_url, "estimated_duration_minutes": estimate, "error": scan.error,
        "agent_ids": list(scan.agent_ids or []), "created_by": scan.created_by, "cancelled_by": scan.cancelled_by,
        "created_at": scan.created_at, "started_at": scan.started_at, "finished_at": scan.finished_at,
        "duration_seconds": duration_seconds(scan),
    }


def reads(session: Session, principal: Principal, scans: list[Scan]) -> list[dict]:
    """Read shapes of a page of scans: their assets and estimates in one query each (per scan type)."""
    r = repo(session, principal)
    assets = r.assets({s.asset_id for s in scans})
    est = estimates(r, scans)
    return [to_read(s, assets.get(s.asset_id), est[s.id]) for s in scans]


def status_of(scan: Scan) -> dict:
    return {"scan_id": scan.id, "status": scan.status, "progress": int(scan.progress or 0),
            "current_phase": scan.current_phase, "task_summary": task_summary(scan)}
