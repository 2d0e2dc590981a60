"""Asset business rules: create, read, update, delete, and the summaries events carry."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from s4e_platform.asset import normalize
from s4e_platform.asset.errors import AssetExists, AssetHasDependents
from s4e_platform.asset.models import Asset
from s4e_platform.asset.repository import AssetRepository
from s4e_platform.asset.schemas import AssetCreate, AssetUpdate
from s4e_platform.auth.principal import Principal
from s4e_platform.errors import Forbidden, NotFound, validation_error
from s4e_platform.event import service as events
from s4e_platform.kit.clock import isoformat
from s4e_platform.kit.crypto import random_base62
from s4e_platform.kit.ids import new_id, parse_id
from s4e_platform.workspace import service as workspace_service

VERIFICATION_PREFIX = "s4e-verification="


def grade(score: int) -> str:
    if score >= 90:
        return "A"
    if score >= 75:
        return "B"
    if score >= 60:
        return "C"
    if score >= 40:
        return "D"
    return "F"


def summary(asset: Asset) -> dict:
    """Asset summary inside event data (events.md 1.2)."""
    return {"id": asset.id, "name": asset.name, "type": asset.type, "status": asset.status,
            "verified": asset.verified, "criticality": asset.criticality, "tags": list(asset.tags or []),
            "parent_id": asset.parent_id, "source": asset.source, "network_zone": asset.network_zone}


def to_read(asset: Asset, child_count: int = 0) -> dict:
    fs = {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}
    fs.update(asset.finding_summary or {})
    return {
        "id": asset.id, "name": asset.name, "type": asset.type, "status": asset.status,
        "verified": asset.verified, "verification": asset.verification, "parent_id": asset.parent_id,
        "source": asset.source, "criticality": asset.criticality, "tags": list(asset.tags or []),
        "description": asset.description or "", "owner_id": asset.owner_id, "network_zone": asset.network_zone,
        "scan_route": asset.scan_route, "metadata": asset.meta or {}, "risk_score": asset.risk_score,
        "security_score": asset.security_score, "grade": grade(asset.security_score), "finding_summary": fs,
        "service_count": asset.service_count, "endpoint_count": asset.endpoint_count, "child_count": child_count,
        "last_scan_at": asset.last_scan_at, "last_scan_id": asset.last_scan_id, "created_at": asset.created_at,
        "updated_at": asset.updated_at, "created_by": asset.created_by,
    }


def scan_route(asset: Asset) -> str:
    if asset.network_zone == "internal" and not asset.verified:
        return "none"  # reachable only through an agent covering it (agent.md section 5)
    return "platform"


def repo(session: Session, principal: Principal) -> AssetRepository:
    return AssetRepository(session, principal.workspace_id, principal.asset_restriction)


def check_owner(session: Session, workspace_id: str, owner_id: str | None, path: str = "$.owner_id",
                members: set[str] | None = None) -> str | None:
    """`members` (user ids of the workspace, prefetched by bulk callers) replaces one query per item."""
    if owner_id is None:
        return None
    canon = parse_id(owner_id, "usr")
    if canon is None or not (canon in members if members is not None
                             else workspace_service.is_member(session, workspace_id, canon)):
        raise validation_error(path, "owner must be a member of the workspace", "not_a_member")
    return canon


def check_restricted_create(principal: Principal, tags: list[str]) -> None:
    """A restricted key may create only assets carrying one of its allowed tags (api.md 1.4)."""
    if not principal.restricted:
        return
    allowed = set(principal.asset_restriction.get("tags") or [])
    if not allowed or not allowed.intersection(tags):
        raise Forbidden("This key is restricted to some assets and cannot create this one", code="forbidden")


def build(session: Session, principal: Principal, body: AssetCreate, *, source: str = "manual",
          path: str = "$", members: set[str] | None = None, parents: dict[str, Asset] | None = None) -> Asset:
    """Validate and construct (not yet add) an asset. Bulk callers pass prefetched `members`/`parents`."""
    try:
        name = normalize.normalize(body.type, body.name)
    except normalize.InvalidName as exc:
        raise validation_error(f"{path}.name", str(exc), "invalid_name") from None
    check_restricted_create(principal, body.tags)
    owner = check_owner(session, principal.workspace_id, body.owner_id, f"{path}.owner_id", members)
    parent_id = None
    if body.parent_id is not None:
        parent_key = parse_id(body.parent_id, "ast")
        parent = (parents.get(parent_key or "") if parents is not None
                  else repo(session, principal).get(parent_key))
        if parent is None:
            raise validation_error(f"{path}.parent_id", "parent asset not found", "not_found")
        parent_id = parent.id
    asset = Asset(id=new_id("ast"), workspace_id=principal.workspace_id, name=name, type=body.type,
                  status="pending_verification", verified=False, verification=None,
                  verification_token=random_base62(32), parent_id=parent_id, source=source,
                  criticality=body.criticality, tags=body.tags, description=body.description, owner_id=owner,
                  network_zone=normalize.network_zone(body.type, name), meta={}, finding_summary={},
                  created_by=principal.user_id)
    asset.scan_route = scan_route(asset)
    return asset


def create(session: Session, principal: Principal, body: AssetCreate) -> Asset:
    r = repo(session, principal)
    asset = build(session, principal, body)
    if r.by_names([(asset.type, asset.name)]):
        raise AssetExists(details={"type": asset.type, "name": asset.name})
    r.add(asset)
    session.flush()
    r.set_tags(asset, asset.tags)
    events.record(session, workspace_id=asset.workspace_id, event="asset.created", data={"asset": summary(asset)},
                  actor=principal.actor(), asset_id=asset.id)
    from s4e_platform.asset import verification  # it builds on this module

    verification.inherit_at_create(session, principal, asset)
    return asset


def get(session: Session, principal: Principal, asset_id: str) -> Asset:
    asset = repo(session, principal).get(parse_id(asset_id, "ast"))
    if asset is None:
        raise NotFound("Asset not found")
    return asset


def update(session: Session, principal: Principal, asset: Asset, body: AssetUpdate) -> Asset:
    changes: list[str] = []
    fields = body.model_fields_set
    if "tags" in fields and body.tags is not None and body.tags != list(asset.tags or []):
        asset.tags = body.tags
        repo(session, principal).set_tags(asset, body.tags)
        changes.append("tags")
    if "criticality" in fields and body.criticality and body.criticality != asset.criticality:
        asset.criticality = body.criticality
        changes.append("criticality")
    if "description" in fields and body.description is not None and body.description != asset.description:
        asset.description = body.description
        changes.append("description")
    if "owner_id" in fields:
        owner = check_owner(session, asset.workspace_id, body.owner_id)
        if owner != asset.owner_id:
            asset.owner_id = owner
            changes.append("owner_id")
    if "status" in fields and body.status and body.status != asset.status:
        if asset.status == "pending_verification":
            raise validation_error("$.status", "an unverified asset cannot change status; verify it first",
                                   "invalid_transition")
        asset.status = body.status
        changes.append("status")
    if changes:
        events.record(session, workspace_id=asset.workspace_id, event="asset.updated",
                      data={"asset": summary(asset), "changes": changes}, actor=principal.actor(),
                      asset_id=asset.id)
    if {"tags", "criticality"} & set(changes):
        # Severity rules and risk weights read criticality and tags (scanning.md 6.8): findings follow.
        from s4e_platform.finding.reclassify import reclassify_assets

        session.flush()
        reclassify_assets(session, workspace_id=asset.workspace_id, asset_ids=[asset.id], actor=principal.actor())
    return asset


def delete_asset(session: Session, principal: Principal, asset: Asset, *, cascade: bool) -> None:
    children = session.execute(select(Asset.id).where(Asset.parent_id == asset.id)).scalars().all()
    if not cascade:
        dependents = _dependents(session, asset.id, len(children))
        if any(dependents.values()):
            raise AssetHasDependents(details=dependents)
    for child_id in children:
        child = session.get(Asset, child_id)
        if child is not None:
            delete_asset(session, principal, child, cascade=True)
    events.record(session, workspace_id=asset.workspace_id, event="asset.deleted",
                  data={"asset_id": asset.id, "name": asset.name, "type": asset.type}, actor=principal.actor(),
                  asset_id=asset.id)
    session.execute(delete(Asset).where(Asset.id == asset.id))


def _dependents(session: Session, asset_id: str, children: int) -> dict[str, int]:
    """What deleting the asset would take with it (api.md: children, services or findings need cascade)."""
    from s4e_platform.finding.models import Finding
    from s4e_platform.inventory.models import Service

    def count(model) -> int:
        return session.execute(select(func.count()).select_from(model).where(model.asset_id == asset_id)).scalar_one()

    return {"children": children, "services": count(Service), "findings": count(Finding)}


def apply_verification(asset: Asset, *, method: str, verified_by: str | None, reason: str | None = None,
                       inherited_from: str | None = None) -> None:
    """Set the verified state on the row (bulk inserts use it before the row exists)."""
    from s4e_platform.kit.clock import utcnow

    asset.verified = True
    asset.verification = {"method": method, "verified_at": isoformat(utcnow()), "verified_by": verified_by,
                          **({"reason": reason} if reason else {}),
                          **({"inherited_from": inherited_from} if inherited_from else {})}
    if asset.status == "pending_verification":
        asset.status = "active"
    asset.scan_route = scan_route(asset)


def mark_verified(session: Session, asset: Asset, *, method: str, actor: dict, verified_by: str | None,
                  reason: str | None = None, inherited_from: str | None = None) -> None:
    apply_verification(asset, method=method, verified_by=verified_by, reason=reason, inherited_from=inherited_from)
    events.record(session, workspace_id=asset.workspace_id, event="asset.verified",
                  data={"asset": summary(asset), "method": method}, actor=actor, asset_id=asset.id)
