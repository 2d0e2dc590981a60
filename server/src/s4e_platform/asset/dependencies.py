"""Asset path dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from s4e_platform.asset import service
from s4e_platform.asset.models import Asset
from s4e_platform.auth.dependencies import DbSession, require
from s4e_platform.auth.principal import Principal

ReadAssets = Annotated[Principal, Depends(require("read:assets"))]
WriteAssets = Annotated[Principal, Depends(require("write:assets"))]
AdminPrincipal = Annotated[Principal, Depends(require("admin"))]
AssetId = Annotated[str, Path(description="Asset id (ast_...)", max_length=64)]


def asset_for_read(asset_id: AssetId, principal: ReadAssets, session: DbSession) -> Asset:
    return service.get(session, principal, asset_id)


def asset_for_write(asset_id: AssetId, principal: WriteAssets, session: DbSession) -> Asset:
    return service.get(session, principal, asset_id)


ReadableAsset = Annotated[Asset, Depends(asset_for_read)]
WritableAsset = Annotated[Asset, Depends(asset_for_write)]
