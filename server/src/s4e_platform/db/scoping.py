"""Which id prefixes name workspace-scoped objects, so an id from another workspace is always a 404.

Each domain registers its model here; repositories and the auth layer use it for visibility checks.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from s4e_platform.kit.ids import id_prefix, parse_id

SCOPED: dict[str, type] = {}


def register(prefix: str, model: type) -> None:
    SCOPED[prefix] = model


def visible(session: Session, object_id: str, workspace_id: str | None,
            asset_restriction: dict | None = None) -> bool:
    """True if `object_id` exists in `workspace_id` (and inside the key's asset restriction)."""
    prefix = id_prefix(object_id)
    model = SCOPED.get(prefix or "")
    if model is None:
        return True  # not a workspace object (or not an id): the handler decides
    canon = parse_id(object_id, prefix)
    cols = [model.workspace_id]
    has_asset = hasattr(model, "asset_id") or model.__tablename__ == "asset"
    asset_col = model.id if model.__tablename__ == "asset" else getattr(model, "asset_id", None)
    if has_asset and asset_col is not None:
        cols.append(asset_col)
    row = session.execute(select(*cols).where(model.id == canon)).first()
    if row is None or row[0] != workspace_id:
        return False
    if asset_restriction and len(row) > 1 and row[1] is not None:
        from s4e_platform.auth.restriction import asset_allowed

        return asset_allowed(session, asset_restriction, row[1])
    return True
