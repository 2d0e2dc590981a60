"""Which assets a profile covers (scanning.md 3): the union of `asset_ids` and the assets matching every selector
given (`tags` any-of, `asset_types`), plus child domains with `include_children`, minus the exclusions.

Inactive assets are never in scope (our choice: `inactive` is how a user parks an asset). Reads honour an API
key's asset restriction when the caller has one (a manual run); the scheduler resolves without restriction.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from s4e_platform.asset.models import Asset, AssetTag
from s4e_platform.auth.restriction import asset_condition
from s4e_platform.errors import validation_error
from s4e_platform.kit.ids import parse_id

CHUNK = 500
MAX_CHILD_DEPTH = 10


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(values), CHUNK):
        yield values[i:i + CHUNK]


def _base(workspace_id: str, restriction: dict | None, *cols):
    stmt = select(*(cols or (Asset.id,))).where(Asset.workspace_id == workspace_id, Asset.status != "inactive")
    cond = asset_condition(restriction or {}, Asset.id)
    return stmt if cond is None else stmt.where(cond)


def check_asset_ids(session: Session, workspace_id: str, values: list[str], *, restriction: dict | None = None,
                    path: str = "$.scope.asset_ids", must_exist: bool = True) -> list[str]:
    """Canonical ids in input order without duplicates; 422 naming the index of the first bad one."""
    canon: list[str] = []
    for i, value in enumerate(values):
        cid = parse_id(value, "ast") if isinstance(value, str) else None
        if cid is None:
            raise validation_error(f"{path}[{i}]", "not an asset id (ast_...)", "invalid_id")
        canon.append(cid)
    if must_exist and canon:
        found: set[str] = set()
        cond = asset_condition(restriction or {}, Asset.id)
        for chunk in _chunks(sorted(set(canon))):
            stmt = select(Asset.id).where(Asset.workspace_id == workspace_id, Asset.id.in_(chunk))
            found.update(session.execute(stmt if cond is None else stmt.where(cond)).scalars())
        for i, cid in enumerate(canon):
            if cid not in found:
                raise validation_error(f"{path}[{i}]", "asset not found in this workspace", "not_found")
    return list(dict.fromkeys(canon))


def _tagged(session: Session, workspace_id: str, tags: list[str]) -> set[str]:
    return set(session.execute(select(AssetTag.asset_id).where(
        AssetTag.workspace_id == workspace_id, AssetTag.tag.in_(tags))).scalars())


def _children(session: Session, workspace_id: str, restriction: dict | None, ids: set[str]) -> set[str]:
    """Child domains (any depth) of the in-scope domains."""
    frontier: set[str] = set()
    for chunk in _chunks(sorted(ids)):
        frontier.update(session.execute(_base(workspace_id, restriction).where(
            Asset.id.in_(chunk), Asset.type == "domain")).scalars())
    found: set[str] = set()
    for _ in range(MAX_CHILD_DEPTH):
        if not frontier:
            break
        nxt: set[str] = set()
        for chunk in _chunks(sorted(frontier)):
            nxt.update(session.execute(_base(workspace_id, restriction).where(
                Asset.parent_id.in_(chunk), Asset.type == "domain")).scalars())
        frontier = nxt - found - ids
        found |= frontier
    return found


def resolve_ids(session: Session, *, workspace_id: str, scope: dict, restriction: dict | None = None) -> list[str]:
    """Ids of the assets in scope, sorted (ids are time-ordered, so oldest asset first)."""
    ids: set[str] = set()
    explicit = [a for a in (parse_id(v, "ast") for v in scope.get("asset_ids") or []) if a]
    for chunk in _chunks(explicit):
        ids.update(session.execute(_base(workspace_id, restriction).where(Asset.id.in_(chunk))).scalars())
    tags, types = scope.get("tags") or [], scope.get("asset_types") or []
    if tags or types:
        stmt = _base(workspace_id, restriction)
        if types:
            stmt = stmt.where(Asset.type.in_(types))
        if tags:
            tagged = (select(AssetTag.asset_id).where(AssetTag.workspace_id == workspace_id,
                                                      AssetTag.tag.in_(tags)).distinct().subquery())
            stmt = stmt.join(tagged, tagged.c.asset_id == Asset.id)
        ids.update(session.execute(stmt).scalars())
    if scope.get("include_children") and ids:
        ids |= _children(session, workspace_id, restriction, ids)
    ids -= {a for a in (parse_id(v, "ast") for v in scope.get("exclude_asset_ids") or []) if a}
    if scope.get("exclude_tags") and ids:
        ids -= _tagged(session, workspace_id, scope["exclude_tags"])
    return sorted(ids)


def load(session: Session, ids: list[str]) -> list[Asset]:
    out: list[Asset] = []
    for chunk in _chunks(ids):
        out.extend(session.execute(select(Asset).where(Asset.id.in_(chunk)).order_by(Asset.id)).scalars())
    return out


def types_of(session: Session, workspace_id: str, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(ids):
        found.update(session.execute(select(Asset.type).where(
            Asset.workspace_id == workspace_id, Asset.id.in_(chunk)).distinct()).scalars())
    return found
