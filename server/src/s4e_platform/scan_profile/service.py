"""Scan profile rules: CRUD with validation against the scanner catalog, and runs (one scan per in-scope asset)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from s4e_platform.asset.models import Asset
from s4e_platform.auth.principal import Principal
from s4e_platform.errors import AlreadyExists, APIError, Forbidden, NotFound, Unprocessable, validation_error
from s4e_platform.kit.clock import isoformat, utcnow
from s4e_platform.kit.ids import new_id, parse_id
from s4e_platform.scan import options as scan_options
from s4e_platform.scan import service as scan_service
from s4e_platform.scan.models import Scan
from s4e_platform.scan_profile import cron, plan, scope
from s4e_platform.scan_profile.models import ScanFire, ScanProfile
from s4e_platform.scan_profile.repository import ProfileRepository, active_scan_assets
from s4e_platform.scan_profile.schemas import ProfileCreate, ProfileUpdate
from s4e_platform.scanners import registry
from s4e_platform.workspace.models import Workspace
from s4e_platform.workspace.service import settings_of

ASSET_TYPES = ("domain", "ip", "network", "url")
# Errors that depend on the asset type: a profile spanning several types is valid if one type can run it.
_TYPE_CODES = {"unsupported_target", "no_applicable_scanner"}


def repo(session: Session, principal: Principal) -> ProfileRepository:
    return ProfileRepository(session, principal.workspace_id)


def _schedule_read(schedule: dict | None) -> dict | None:
    if not schedule:
        return None
    return {"cron": schedule["cron"], "timezone": schedule.get("timezone") or "UTC",
            "until": schedule.get("until") and datetime.fromisoformat(schedule["until"].replace("Z", "+00:00")),
            "skip_windows": list(schedule.get("skip_windows") or []), "on_skip": schedule.get("on_skip") or "skip"}


def to_read(profile: ScanProfile) -> dict:
    return {"id": profile.id, "name": profile.name, "description": profile.description or "",
            "enabled": profile.enabled, "scope": profile.scope or {}, "scan_type": profile.scan_type,
            "scanners": list(profile.scanners) if profile.scanners else None, "options": profile.options or {},
            "priority": profile.priority, "schedule": _schedule_read(profile.schedule),
            "post_scan_actions": list(profile.post_scan_actions or []), "next_run_at": profile.next_run_at,
            "last_run_at": profile.last_run_at, "created_by": profile.created_by,
            "created_at": profile.created_at, "updated_at": profile.updated_at}


def get(session: Session, principal: Principal, profile_id: str) -> ScanProfile:
    profile = repo(session, principal).get(parse_id(profile_id, "prf"))
    if profile is None:
        raise NotFound("Scan profile not found")
    return profile


# Validation -------------------------------------------------------------------------------------------------

def _candidate_types(session: Session, workspace_id: str, scope_doc: dict) -> list[str]:
    """Asset types the profile may meet: its `asset_types`, plus the types of its explicit assets; any type when a
    tag selector (or include_children) can bring in assets of unknown type."""
    types = set(scope_doc.get("asset_types") or [])
    if scope_doc.get("tags") and not types:
        types = set(ASSET_TYPES)
    if scope_doc.get("asset_ids"):
        types |= scope.types_of(session, workspace_id, scope_doc["asset_ids"])
    if scope_doc.get("include_children"):
        types.add("domain")
    return [t for t in ASSET_TYPES if t in types]


def check_scan_config(session: Session, workspace_id: str, *, scan_type: str, scanners: list[str] | None,
                      options: dict[str, Any], scope_doc: dict) -> dict[str, Any]:
    """The scan settings as a scan would check them (scan service rules), for every asset type in scope; 422 when
    no asset type in scope could run them. Returns the options with the shared keys validated."""
    opts = scan_options.check_common(options)
    for i, name in enumerate(scanners or []):
        if registry.get(name) is None:
            raise validation_error(f"$.scanners[{i}]", f"unknown scanner {name!r} (see GET /scanners)",
                                   "unknown_scanner")
    resolved: set[str] = set()
    first_error: Unprocessable | None = None
    for asset_type in _candidate_types(session, workspace_id, scope_doc):
        try:
            names = scan_service.resolve_scanners(asset_type, scan_type, _applicable(scanners, asset_type), opts)
        except Unprocessable as exc:
            codes = {d.get("code") for d in exc.details or [] if isinstance(d, dict)}
            if not codes or not codes <= _TYPE_CODES:
                raise
            first_error = first_error or exc
            continue
        resolved.update(names)
    if not resolved:
        raise first_error or validation_error("$.scan_type", "no scanner of this scan applies to the assets in "
                                              "scope", "no_applicable_scanner")
    scan_options.check_scanners(opts, sorted(resolved))
    return opts


def _applicable(scanners: list[str] | None, asset_type: str) -> list[str] | None:
    """A custom profile's scanners that can scan `asset_type` (unknown names are kept so they are reported)."""
    if not scanners:
        return scanners
    kept = [s for s in scanners if registry.get(s) is None or asset_type in registry.get(s).target_types]
    return kept or list(scanners)


def _scope_doc(session: Session, principal: Principal, body_scope) -> dict:
    doc = body_scope.model_dump()
    restriction = principal.asset_restriction if principal.restricted else None
    doc["asset_ids"] = scope.check_asset_ids(session, principal.workspace_id, doc["asset_ids"],
                                             restriction=restriction)
    doc["exclude_asset_ids"] = scope.check_asset_ids(session, principal.workspace_id, doc["exclude_asset_ids"],
                                                     path="$.scope.exclude_asset_ids", must_exist=False)
    return doc


def _schedule_doc(body_schedule) -> dict | None:
    if body_schedule is None:
        return None
    doc = body_schedule.model_dump()
    doc["until"] = isoformat(doc["until"]) if doc["until"] else None
    return doc


def check_writer(principal: Principal) -> None:
    """A credential restricted to some assets may not define profiles: their schedule runs without it."""
    if principal.restricted:
        raise Forbidden("This key is restricted to some assets and cannot create or change scan profiles",
                        code="forbidden")


def _flush_named(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError:  # a concurrent request took the name between the check and the write
        raise AlreadyExists("A scan profile with this name exists", details={"name": name}) from None


def _check_name(session: Session, principal: Principal, name: str, current: ScanProfile | None = None) -> None:
    other = repo(session, principal).by_name(name)
    if other is not None and other is not current:
        raise AlreadyExists("A scan profile with this name exists", details={"name": name})


def reschedule(profile: ScanProfile, now: datetime | None = None) -> None:
    """Every write recomputes the next fire from now (a disabled or unscheduled profile has none)."""
    try:
        profile.next_run_at = plan.next_scheduled(profile, now or utcnow())
    except cron.InvalidSchedule:
        profile.next_run_at = None


# CRUD -------------------------------------------------------------------------------------------------------

def create(session: Session, principal: Principal, body: ProfileCreate) -> ScanProfile:
    check_writer(principal)
    _check_name(session, principal, body.name)
    scope_doc = _scope_doc(session, principal, body.scope)
    opts = check_scan_config(session, principal.workspace_id, scan_type=body.scan_type, scanners=body.scanners,
                             options=body.options, scope_doc=scope_doc)
    profile = ScanProfile(id=new_id("prf"), workspace_id=principal.workspace_id, name=body.name,
                          description=body.description, enabled=body.enabled, scope=scope_doc,
                          scan_type=body.scan_type, scanners=list(body.scanners or []), options=opts,
                          priority=body.priority, schedule=_schedule_doc(body.schedule),
                          post_scan_actions=[a.model_dump(exclude_none=True) for a in body.post_scan_actions],
                          created_by=principal.user_id)
    reschedule(profile)
    repo(session, principal).add(profile)
    _flush_named(session, profile.name)
    return profile


def update(session: Session, principal: Principal, profile: ScanProfile, body: ProfileUpdate) -> ScanProfile:
    check_writer(principal)
    fields = body.model_fields_set
    if "name" in fields and body.name != profile.name:
        _check_name(session, principal, body.name, profile)
        profile.name = body.name
    for key in ("description", "enabled", "priority"):
        if key in fields:
            setattr(profile, key, getattr(body, key))
    scope_doc = _scope_doc(session, principal, body.scope) if "scope" in fields else copy.deepcopy(profile.scope)
    scan_type = body.scan_type if "scan_type" in fields else profile.scan_type
    scanners = (body.scanners if "scanners" in fields else profile.scanners) or None
    options = body.options if "options" in fields else dict(profile.options or {})
    if fields & {"scope", "scan_type", "scanners", "options"}:
        options = check_scan_config(session, profile.workspace_id, scan_type=scan_type, scanners=scanners,
                                    options=options, scope_doc=scope_doc)
        profile.scope, profile.scan_type, profile.scanners, profile.options = (scope_doc, scan_type,
                                                                             list(scanners or []), options)
    if "schedule" in fields:
        profile.schedule = _schedule_doc(body.schedule)
    if "post_scan_actions" in fields:
        profile.post_scan_actions = [a.model_dump(exclude_none=True) for a in body.post_scan_actions]
    reschedule(profile)
    profile.updated_at = utcnow()
    _flush_named(session, profile.name)
    return profile


def delete_profile(session: Session, principal: Principal, profile: ScanProfile) -> None:
    """Scans keep their history (`profile_id` becomes null); the fire log goes with the profile."""
    check_writer(principal)
    session.execute(delete(ScanFire).where(ScanFire.profile_id == profile.id))
    session.delete(profile)
    session.flush()


def schedule_preview(session: Session, profile: ScanProfile, *, count: int, now: datetime | None = None) -> list:
    ws = session.get(Workspace, profile.workspace_id)
    try:
        return plan.preview(profile, settings_of(ws), count=count, now=now or utcnow())
    except cron.InvalidSchedule as exc:  # a stored window or zone no longer valid (e.g. tzdata changed)
        raise validation_error("$.schedule", str(exc), "invalid_schedule") from None


# Runs -------------------------------------------------------------------------------------------------------

class ProfileRun(list):
    """The scans a run created (a list of Scan); `skipped` holds `{asset_id, reason, message}` of the assets left
    out, `in_scope` how many assets the scope matched."""

    def __init__(self, scans: list[Scan] | None = None) -> None:
        super().__init__(scans or [])
        self.skipped: list[dict] = []
        self.in_scope = 0


def _windowed(session: Session, profile: ScanProfile, asset_ids: list[str], at: datetime) -> dict[str, dict]:
    """Assets whose own workspace skip window covers `at`."""
    ws_settings = settings_of(session.get(Workspace, profile.workspace_id))
    out: dict[str, dict] = {}
    scoped = {w.get("scope") for w in ws_settings.get("scan_skip_windows") or []} - {"all", None}
    for asset_id in scoped & set(asset_ids):
        hit = cron.covering(plan.windows_for(profile, ws_settings, asset_id=asset_id), at)
        if hit is not None:
            out[asset_id] = hit[0].describe()
    return out


def _scanners_for(profile: ScanProfile, asset: Asset) -> list[str] | None:
    """A custom profile runs, on each asset, those of its scanners that can scan the asset's type."""
    if profile.scan_type != "custom" or not profile.scanners:
        return None
    return [s for s in profile.scanners if registry.get(s) is not None
            and asset.type in registry.get(s).target_types]


def run_profile(session: Session, profile: ScanProfile, *, triggered_by: dict, created_by: str | None,
                scheduled_at: datetime | None = None, restriction: dict | None = None, actor: dict | None = None,
                now: datetime | None = None) -> ProfileRun:
    """One scan per in-scope asset through `create_scan` (interfaces.md 6). Left out, and reported in `skipped`:
    assets with a queued/running scan of this profile, assets the scan may not run on (e.g. 422
    `asset_not_verified`), and on scheduled runs (`scheduled_at` set) assets inside their own skip window."""
    now = now or utcnow()
    run = ProfileRun()
    ids = scope.resolve_ids(session, workspace_id=profile.workspace_id, scope=profile.scope or {},
                            restriction=restriction)
    run.in_scope = len(ids)
    busy = active_scan_assets(session, profile.id, ids)
    windowed = _windowed(session, profile, ids, now) if scheduled_at is not None else {}
    for asset in scope.load(session, [i for i in ids if i not in busy and i not in windowed]):
        scanners = _scanners_for(profile, asset)
        if scanners == []:
            run.skipped.append({"asset_id": asset.id, "reason": "no_applicable_scanner",
                                "message": f"none of the profile's scanners can scan a {asset.type} asset"})
            continue
        try:
            scan = scan_service.create_scan(
                session, asset=asset, scan_type=profile.scan_type, scanners=scanners,
                options=dict(profile.options or {}), priority=profile.priority, triggered_by=triggered_by,
                created_by=created_by, profile_id=profile.id, actor=actor)
        except APIError as exc:
            if exc.status_code != 422:
                raise
            run.skipped.append({"asset_id": asset.id, "reason": exc.code, "message": exc.message})
            continue
        run.append(scan)
    run.skipped += [{"asset_id": a, "reason": "already_running",
                     "message": "a scan of this profile is queued or running on the asset"} for a in sorted(busy)]
    run.skipped += [{"asset_id": a, "reason": "skip_window", "message": f"inside skip window {w}"}
                    for a, w in sorted(windowed.items())]
    if run:
        profile.last_run_at = now
    return run


def run_now(session: Session, principal: Principal, profile: ScanProfile) -> ProfileRun:
    """POST /scan-profiles/{id}/run: 422 when the scope matches no asset the caller may see."""
    restriction = principal.asset_restriction if principal.restricted else None
    run = run_profile(session, profile, triggered_by=scan_service.principal_trigger(principal),
                      created_by=principal.user_id, restriction=restriction, actor=principal.actor())
    if run.in_scope == 0:
        raise validation_error("$.scope", "the profile's scope matches no asset", "empty_scope")
    return run
