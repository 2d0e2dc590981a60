"""Bulk asset operations (POST /assets/bulk; the CSV import reuses the create path).

Creates validate every item with the single-create rules (`service.build`), find existing (type, name) pairs
with one chunked query, then write assets, tags and their outbox events as multi-row inserts (db/bulk.py: COPY
on PostgreSQL, executemany on SQLite): 10,000 assets must land in well under 3 s, which per-row ORM flushes
cannot do. Updates and deletes reuse the single-asset service per item (they are rarer and carry per-item
rules). Without `partial`, one error anywhere means a 422 listing every item's errors and nothing written (the
request's unit of work rolls back); with it, each update/delete runs in a savepoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from s4e_platform.asset import service, verification
from s4e_platform.asset.bulk_schemas import BulkDeleteItem, BulkRequest, BulkUpdateItem
from s4e_platform.asset.errors import AssetExists
from s4e_platform.asset.models import Asset, AssetTag
from s4e_platform.asset.repository import AssetRepository
from s4e_platform.asset.schemas import AssetCreate
from s4e_platform.auth.principal import Principal
from s4e_platform.db.bulk import insert_rows
from s4e_platform.db.session import after_commit
from s4e_platform.errors import APIError, Unprocessable, jsonpath
from s4e_platform.event import hub
from s4e_platform.event.models import Event
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.ids import parse_id
from s4e_platform.workspace.models import Membership

CHUNK = 500
_PYDANTIC_CODES = {"missing": "required", "extra_forbidden": "unknown_field"}


def _default(column) -> Callable[[], object] | None:
    d = column.default
    if d is None:
        return None
    return (lambda: d.arg(None)) if d.is_callable else (lambda: d.arg)


# (attribute, column name, default): multi-row inserts need every column in every row, so Python-side
# defaults are resolved here for the attributes `service.build` leaves unset.
_COLUMNS = [(attr.key, attr.columns[0].name, _default(attr.columns[0])) for attr in Asset.__mapper__.column_attrs]


@dataclass
class Outcome:
    index: int
    status: str = "error"
    id: str | None = None
    errors: list[dict] = field(default_factory=list)


@dataclass
class CreatePlan:
    outcomes: list[Outcome]
    assets: list[Asset]  # new assets to insert, in item order
    inherited: dict[str, tuple[str, str]]  # asset id -> (inherited_from, reason)


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def pydantic_errors(exc: ValidationError, prefix: str) -> list[dict]:
    return [{"path": prefix + jsonpath(e.get("loc", ()))[1:], "message": e.get("msg", "invalid"),
             "code": _PYDANTIC_CODES.get(e.get("type", ""), e.get("type", "invalid"))} for e in exc.errors()]


def api_errors(exc: APIError, prefix: str, field_name: str = "") -> list[dict]:
    """Errors a service raised for one item, re-rooted under the item's path."""
    if isinstance(exc.details, list) and exc.details and all(isinstance(d, dict) for d in exc.details):
        return [{"path": prefix + str(d.get("path", "$"))[1:], "message": d.get("message", exc.message),
                 "code": d.get("code", exc.code)} for d in exc.details]
    return [{"path": prefix + (f".{field_name}" if field_name else ""), "message": exc.message,
             "code": exc.code}]


def _members(session: Session, workspace_id: str, raw_ids: Iterable[object]) -> set[str]:
    ids = sorted({c for c in (parse_id(v, "usr") for v in raw_ids if isinstance(v, str)) if c})
    found: set[str] = set()
    for chunk in _chunks(ids):
        found.update(session.execute(select(Membership.user_id).where(
            Membership.workspace_id == workspace_id, Membership.user_id.in_(chunk))).scalars())
    return found


def _assets_by_id(session: Session, principal: Principal, raw_ids: Iterable[object]) -> dict[str, Asset]:
    """Assets the principal can see, by canonical id (the restriction applies as on single reads)."""
    ids = sorted({c for c in (parse_id(v, "ast") for v in raw_ids if isinstance(v, str)) if c})
    found: dict[str, Asset] = {}
    base = service.repo(session, principal).select()
    for chunk in _chunks(ids):
        found.update((a.id, a) for a in session.execute(base.where(Asset.id.in_(chunk))).scalars())
    return found


def _visible_id(principal: Principal, asset: Asset) -> str | None:
    """An existing asset's id, unless a restricted key may not see it (then it only learns it exists)."""
    if not principal.restricted:
        return asset.id
    r = principal.asset_restriction
    if asset.id in (r.get("asset_ids") or []) or set(r.get("tags") or []).intersection(asset.tags or []):
        return asset.id
    return None


# Create ----------------------------------------------------------------------------------------------------


def plan_creates(session: Session, principal: Principal, items: list[tuple[int, dict]], *, source: str,
                 prefix: Callable[[int], str]) -> CreatePlan:
    """Validate every item and decide created/exists/error; writes nothing."""
    members = _members(session, principal.workspace_id, (raw.get("owner_id") for _, raw in items))
    parents = _assets_by_id(session, principal, (raw.get("parent_id") for _, raw in items))
    outcomes: list[Outcome] = []
    built: list[tuple[Outcome, Asset]] = []
    for index, raw in items:
        out = Outcome(index)
        outcomes.append(out)
        path = prefix(index)
        try:
            body = AssetCreate.model_validate(raw)
            built.append((out, service.build(session, principal, body, source=source, members=members,
                                             parents=parents)))
        except ValidationError as exc:
            out.errors = pydantic_errors(exc, path)
        except APIError as exc:  # normalisation, membership, parent, or a restricted key's tag rule
            out.errors = api_errors(exc, path, "tags" if exc.status_code == 403 else "")
    keys = sorted({(a.type, a.name) for _, a in built})
    existing = AssetRepository(session, principal.workspace_id).by_names(keys)
    taken: dict[tuple[str, str], Asset] = {}
    new: list[Asset] = []
    for out, asset in built:
        key = (asset.type, asset.name)
        if key in existing:
            out.status, out.id = "exists", _visible_id(principal, existing[key])
        elif key in taken:  # the same asset twice in one request: created once
            out.status, out.id = "exists", taken[key].id
        else:
            out.status, out.id = "created", asset.id
            taken[key] = asset
            new.append(asset)
    return CreatePlan(outcomes, new, verification.sources(session, principal.workspace_id, new))


def _row(asset: Asset) -> dict:
    # The transient instance's own dict: attribute instrumentation costs more than the insert itself here.
    values = asset.__dict__
    row = {}
    for attr, name, default in _COLUMNS:
        value = values.get(attr)
        row[name] = default() if value is None and default is not None else value
    return row


def write_creates(session: Session, principal: Principal, plan: CreatePlan) -> None:
    """Insert the planned assets, their tags, and one asset.created (plus asset.verified when inherited) each."""
    if not plan.assets:
        return
    now = utcnow()
    actor = principal.actor()
    assets, tags, outbox = [], [], []
    for asset in plan.assets:
        asset.created_at = asset.updated_at = now
        outbox.append({"workspace_id": asset.workspace_id, "event": "asset.created", "asset_id": asset.id,
                       "actor": actor, "data": {"asset": service.summary(asset)}, "created_at": now})
        inherited = plan.inherited.get(asset.id)
        if inherited is not None:
            service.apply_verification(asset, method="inherited", verified_by=principal.user_id,
                                       reason=inherited[1], inherited_from=inherited[0])
            outbox.append({"workspace_id": asset.workspace_id, "event": "asset.verified", "asset_id": asset.id,
                           "actor": actor, "data": {"asset": service.summary(asset), "method": "inherited"},
                           "created_at": now})
        assets.append(_row(asset))
        tags.extend({"asset_id": asset.id, "tag": t, "workspace_id": asset.workspace_id} for t in asset.tags)
    try:
        insert_rows(session, Asset.__table__, assets)
    except IntegrityError:  # a concurrent request created one of them after the existence check
        raise AssetExists("Another request created some of these assets meanwhile; retry to see them as "
                          "exists") from None
    insert_rows(session, AssetTag.__table__, tags)
    insert_rows(session, Event.__table__, outbox)
    # What event.service.record does per event, once for the batch: wake the publisher at commit.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify('s4e_outbox', '')"))
    after_commit(session, hub.outbox_committed)


# Update and delete -----------------------------------------------------------------------------------------


def _parse_targets(session: Session, principal: Principal, items: list[tuple[int, dict]], model,
                   outcomes: list[Outcome]) -> tuple[list[tuple[Outcome, object]], dict[str, str | None]]:
    """Validate update/delete items and find their assets (id -> parent_id, no ORM objects: see _release);
    unknown or invisible ids are not_found."""
    parsed = []
    for index, raw in items:
        out = Outcome(index)
        outcomes.append(out)
        try:
            parsed.append((out, model.model_validate(raw)))
        except ValidationError as exc:
            out.errors = pydantic_errors(exc, f"$.items[{index}]")
    ids = sorted({c for c in (parse_id(body.id, "ast") for _, body in parsed) if c})
    parents: dict[str, str | None] = {}
    base = service.repo(session, principal).select().with_only_columns(Asset.id, Asset.parent_id)
    for chunk in _chunks(ids):
        parents.update((i, p) for i, p in session.execute(base.where(Asset.id.in_(chunk))))
    targets = []
    for out, body in parsed:
        asset_id = parse_id(body.id, "ast")
        if asset_id not in parents:
            out.errors = [{"path": f"$.items[{out.index}].id", "message": "asset not found", "code": "not_found"}]
        else:
            out.id = asset_id
            targets.append((out, body))
    return targets, parents


def _release(session: Session) -> None:
    """Flush, then forget loaded objects. The ORM-enabled DELETEs of the asset service (tags, assets) match
    their criteria against every object in the session, so a session holding the assets of earlier items
    makes each statement O(n) and a 10,000-item request O(n^2) (minutes instead of seconds)."""
    session.flush()
    session.expunge_all()


def _guarded(session: Session, partial: bool, out: Outcome, status: str, fn: Callable[[Asset], None],
             field_name: str = "") -> None:
    """Run one item's change; with `partial` inside a savepoint so a failing item leaves no trace."""
    asset = session.get(Asset, out.id)
    if asset is None:
        if status == "deleted":  # removed by an earlier item of this request (cascade or repeat)
            out.status = status
        else:  # deleted by another request since it was looked up
            out.errors = [{"path": f"$.items[{out.index}].id", "message": "asset not found", "code": "not_found"}]
        return
    try:
        if partial:
            with session.begin_nested():
                fn(asset)
        else:
            fn(asset)
        out.status = status
    except APIError as exc:
        out.errors = api_errors(exc, f"$.items[{out.index}]", field_name)
    _release(session)


def run_updates(session: Session, principal: Principal, items: list[tuple[int, dict]], partial: bool) -> list:
    outcomes: list[Outcome] = []
    targets, _ = _parse_targets(session, principal, items, BulkUpdateItem, outcomes)
    _release(session)
    for out, body in targets:
        _guarded(session, partial, out, "updated",
                 lambda asset, body=body: service.update(session, principal, asset, body))
    return outcomes


def _depth(asset_id: str, parents: dict[str, str | None]) -> int:
    depth, seen, current = 0, set(), parents.get(asset_id)
    while current in parents and current not in seen:
        seen.add(current)
        current = parents[current]
        depth += 1
    return depth


def run_deletes(session: Session, principal: Principal, items: list[tuple[int, dict]], partial: bool,
                cascade: bool) -> list[Outcome]:
    outcomes: list[Outcome] = []
    targets, parents = _parse_targets(session, principal, items, BulkDeleteItem, outcomes)
    _release(session)
    # Children first, so deleting a parent and its children together needs no cascade.
    targets.sort(key=lambda t: -_depth(t[0].id, parents))
    for out, _ in targets:
        _guarded(session, partial, out, "deleted",
                 lambda asset: service.delete_asset(session, principal, asset, cascade=cascade), "id")
    return outcomes


# Request ---------------------------------------------------------------------------------------------------


def error_details(outcomes: list[Outcome]) -> list[dict]:
    return [{**e, "index": o.index} for o in outcomes for e in o.errors]


def result(outcomes: list[Outcome]) -> dict:
    counts = {"created": 0, "updated": 0, "deleted": 0, "exists": 0, "error": 0}
    results = []
    for o in sorted(outcomes, key=lambda o: o.index):
        status = "error" if o.errors else o.status
        counts[status] += 1
        results.append({"index": o.index, "status": status, "id": o.id,
                        "error": {"code": o.errors[0]["code"], "message": o.errors[0]["message"],
                                  "path": o.errors[0]["path"]} if o.errors else None})
    return {"results": results, "counts": counts}


def run(session: Session, principal: Principal, body: BulkRequest) -> dict:
    items = list(enumerate(body.items))
    if body.operation == "create":
        plan = plan_creates(session, principal, items, source="bulk", prefix=lambda i: f"$.items[{i}]")
        outcomes = plan.outcomes
        if body.partial or not any(o.errors for o in outcomes):
            write_creates(session, principal, plan)
    elif body.operation == "update":
        outcomes = run_updates(session, principal, items, body.partial)
    else:
        outcomes = run_deletes(session, principal, items, body.partial, body.cascade)
    failed = [o for o in outcomes if o.errors]
    if failed and not body.partial:
        raise Unprocessable(f"{len(failed)} of {len(outcomes)} items are invalid; nothing was changed",
                            details=error_details(outcomes))
    return result(outcomes)
