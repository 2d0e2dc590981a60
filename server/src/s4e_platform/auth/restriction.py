"""API-key asset restrictions (api.md 1.4): `{asset_ids[], tags[]}`, both empty = all assets."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session


def asset_allowed(session: Session, restriction: dict, asset_id: str) -> bool:
    from s4e_platform.asset.models import AssetTag

    ids = restriction.get("asset_ids") or []
    tags = restriction.get("tags") or []
    if not ids and not tags:
        return True
    if asset_id in ids:
        return True
    if tags:
        hit = session.execute(select(AssetTag.asset_id).where(
            AssetTag.asset_id == asset_id, AssetTag.tag.in_(tags)).limit(1)).first()
        return hit is not None
    return False


def asset_condition(restriction: dict, asset_id_col) -> ColumnElement[bool] | None:
    """SQL condition limiting `asset_id_col` to the restriction, or None when unrestricted."""
    from s4e_platform.asset.models import AssetTag

    ids = restriction.get("asset_ids") or []
    tags = restriction.get("tags") or []
    if not ids and not tags:
        return None
    parts = []
    if ids:
        parts.append(asset_id_col.in_(ids))
    if tags:
        parts.append(asset_id_col.in_(select(AssetTag.asset_id).where(AssetTag.tag.in_(tags))))
    return or_(*parts) if parts else false()
