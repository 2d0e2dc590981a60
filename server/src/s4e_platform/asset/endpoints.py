"""Asset CRUD endpoints (api.md 2.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Response

from s4e_platform.asset import service
from s4e_platform.asset.dependencies import ReadableAsset, ReadAssets, WritableAsset, WriteAssets
from s4e_platform.asset.models import Asset
from s4e_platform.asset.repository import SORTS
from s4e_platform.asset.schemas import AssetCreate, AssetRead, AssetUpdate
from s4e_platform.auth.dependencies import DbSession
from s4e_platform.kit.ids import parse_id
from s4e_platform.kit.pagination import PageParams, csv_values, order, page_params, paginate
from s4e_platform.kit.router import api_router, conflict
from s4e_platform.kit.schemas import Envelope, ListEnvelope

router = api_router(tags=["assets"])


def _bool(value: str | None, name: str) -> bool | None:
    from s4e_platform.errors import BadRequest

    if value is None:
        return None
    if value not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false", code="invalid_parameter")
    return value == "true"


@router.get("/assets", response_model=ListEnvelope[AssetRead], operation_id="list_assets")
def list_assets(
    principal: ReadAssets,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    type: Annotated[str | None, Query(description="Comma list: domain, ip, network, url")] = None,
    status: Annotated[str | None, Query(description="Comma list of statuses")] = None,
    tag: Annotated[str | None, Query(description="Comma list; any tag matches")] = None,
    criticality: Annotated[str | None, Query(description="Comma list")] = None,
    verified: Annotated[str | None, Query(pattern="^(true|false)$")] = None,
    parent_id: Annotated[str | None, Query(max_length=64)] = None,
    source: Annotated[str | None, Query(description="Comma list")] = None,
    network_zone: Annotated[str | None, Query(description="external or internal")] = None,
    owner_id: Annotated[str | None, Query(max_length=64)] = None,
    from_: Annotated[datetime | None, Query(alias="from", description="created_at >= (inclusive)")] = None,
    to: Annotated[datetime | None, Query(description="created_at < (exclusive)")] = None,
    search: Annotated[str | None, Query(max_length=256, description="name, description, metadata")] = None,
):
    """List assets."""
    parent = parse_id(parent_id, "ast") if parent_id else None
    owner = parse_id(owner_id, "usr") if owner_id else None
    if (parent_id and parent is None) or (owner_id and owner is None):
        # A malformed id matches nothing, like an unknown one.
        return {"data": [], "meta": {"total": 0, "page": paging.page, "per_page": paging.per_page,
                                     "total_pages": 0}}
    repo = service.repo(session, principal)
    filters = dict(
        types=csv_values(type, {"domain", "ip", "network", "url"}, "type"),
        statuses=csv_values(status, {"pending_verification", "active", "inactive"}, "status"),
        tags=csv_values(tag), criticalities=csv_values(criticality, {"low", "medium", "high", "critical"},
                                                        "criticality"),
        verified=_bool(verified, "verified"), parent_id=parent,
        sources=csv_values(source, {"manual", "bulk", "csv", "discovery", "opservant"}, "source"),
        zones=csv_values(network_zone, {"external", "internal"}, "network_zone"),
        owner_id=owner, start=from_, end=to, search=search)
    stmt = order(repo.filtered(**filters), paging, SORTS, "created_at", Asset.id)
    count = repo.count_statement(filters) if filters["tags"] else None
    rows, meta = paginate(session, stmt, paging, count=count)
    counts = repo.child_counts([a.id for a in rows])
    return {"data": [service.to_read(a, counts.get(a.id, 0)) for a in rows], "meta": meta}


@router.post("/assets", response_model=Envelope[AssetRead], status_code=201, operation_id="create_asset",
             responses=conflict("An asset with this type and name exists"))
def create_asset(body: AssetCreate, principal: WriteAssets, session: DbSession, response: Response):
    """Create an asset."""
    asset = service.create(session, principal, body)
    response.headers["Location"] = f"/api/v1/assets/{asset.id}"
    return {"data": service.to_read(asset), "meta": {}}


@router.get("/assets/{asset_id}", response_model=Envelope[AssetRead], operation_id="get_asset")
def get_asset(asset: ReadableAsset, principal: ReadAssets, session: DbSession):
    """Get one asset with metadata, finding summary and scores."""
    counts = service.repo(session, principal).child_counts([asset.id])
    return {"data": service.to_read(asset, counts.get(asset.id, 0)), "meta": {}}


@router.patch("/assets/{asset_id}", response_model=Envelope[AssetRead], operation_id="update_asset")
def update_asset(body: AssetUpdate, asset: WritableAsset, principal: WriteAssets, session: DbSession):
    """Update tags, criticality, description, owner or status."""
    service.update(session, principal, asset, body)
    counts = service.repo(session, principal).child_counts([asset.id])
    return {"data": service.to_read(asset, counts.get(asset.id, 0)), "meta": {}}


@router.delete("/assets/{asset_id}", status_code=204, operation_id="delete_asset",
               responses=conflict("Asset has dependents; use cascade=true"))
def delete_asset(asset: WritableAsset, principal: WriteAssets, session: DbSession,
                 cascade: Annotated[bool, Query(description="Also delete children and their data")] = False):
    """Delete an asset."""
    service.delete_asset(session, principal, asset, cascade=cascade)
    return Response(status_code=204)
