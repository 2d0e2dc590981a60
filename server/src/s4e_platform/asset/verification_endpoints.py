"""Ownership verification endpoints (api.md 2.3): instructions, check now, admin override, revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response

from s4e_platform.asset import service, verification
from s4e_platform.asset.dependencies import (
    AdminPrincipal,
    AssetId,
    ReadableAsset,
    WritableAsset,
    WriteAssets,
)
from s4e_platform.asset.models import Asset
from s4e_platform.asset.schemas import AssetRead
from s4e_platform.asset.verification_schemas import VerificationCheck, VerificationInfo, VerificationOverride
from s4e_platform.auth.dependencies import DbSession
from s4e_platform.auth.principal import Principal
from s4e_platform.db.session import commit
from s4e_platform.kit.router import api_router
from s4e_platform.kit.schemas import Envelope

router = api_router(tags=["assets"])


def asset_for_admin(asset_id: AssetId, principal: AdminPrincipal, session: DbSession) -> Asset:
    return service.get(session, principal, asset_id)


AdminAsset = Annotated[Asset, Depends(asset_for_admin)]


def _read(session, principal: Principal, asset: Asset) -> dict:
    counts = service.repo(session, principal).child_counts([asset.id])
    return {"data": service.to_read(asset, counts.get(asset.id, 0)), "meta": {}}


@router.get("/assets/{asset_id}/verification", response_model=Envelope[VerificationInfo],
            operation_id="get_asset_verification")
def get_asset_verification(asset: ReadableAsset):
    """Get the verification token, status and exact instructions per method."""
    return {"data": verification.instructions(asset), "meta": {}}


@router.post("/assets/{asset_id}/verification", response_model=Envelope[AssetRead],
             operation_id="verify_asset")
def verify_asset(body: VerificationCheck, asset: WritableAsset, principal: WriteAssets, session: DbSession):
    """Check ownership now with one method; 422 verification_failed says what was seen."""
    target = verification.prepare(asset, body.method)
    # The check may spend seconds on DNS and HTTP. End the transaction the auth and read opened first, so
    # SQLite's write lock (and a PostgreSQL connection) is not held meanwhile; then re-read and write.
    commit(session)
    result = verification.run_check(target)
    if not result.ok:
        raise verification.failure(target, result)
    session.expire_all()
    asset = service.get(session, principal, target.asset_id)  # it may have changed or gone meanwhile
    verification.complete(session, principal, asset, body.method)
    return _read(session, principal, asset)


@router.post("/assets/{asset_id}/verification/override", response_model=Envelope[AssetRead],
             operation_id="override_asset_verification")
def override_asset_verification(body: VerificationOverride, asset: AdminAsset, principal: AdminPrincipal,
                                session: DbSession):
    """Mark an asset verified without a check (admin; audited)."""
    verification.override(session, principal, asset, body.reason)
    return _read(session, principal, asset)


@router.delete("/assets/{asset_id}/verification", status_code=204, operation_id="revoke_asset_verification")
def revoke_asset_verification(asset: WritableAsset, principal: WriteAssets, session: DbSession):
    """Revoke verification: the asset returns to pending_verification."""
    verification.revoke(session, principal, asset)
    return Response(status_code=204)
