"""Events feed (cursor) and single event (api.md 2.6, events.md 3.1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from s4e_platform.auth.dependencies import DbSession, require
from s4e_platform.auth.principal import Principal
from s4e_platform.auth.restriction import asset_condition
from s4e_platform.db.scoping import register
from s4e_platform.errors import BadRequest, NotFound
from s4e_platform.event import service
from s4e_platform.event.models import Event
from s4e_platform.event.schemas import EventRead, FeedEnvelope
from s4e_platform.kit.ids import parse_id
from s4e_platform.kit.router import api_router
from s4e_platform.kit.schemas import Envelope

register("evt", Event)
router = api_router(tags=["events"])
ReadEvents = Annotated[Principal, Depends(require("read:events"))]


def parse_patterns(value: str | None, name: str = "event") -> list[str] | None:
    if not value:
        return None
    patterns = [p.strip() for p in value.split(",") if p.strip()]
    for p in patterns:
        if not service.valid_pattern(p):
            raise BadRequest(f"{name} pattern {p!r} is not an event name or wildcard", code="invalid_parameter",
                             details=[{"path": f"query.{name}", "message": "invalid event pattern",
                                       "code": "invalid_parameter"}])
    return patterns


def parse_cursor(value: str | None, name: str = "after") -> str | None:
    if value is None or value == "":
        return None
    canon = parse_id(value, "evt")
    if canon is None:
        raise BadRequest(f"{name} must be an event id (evt_...)", code="invalid_parameter",
                         details=[{"path": f"query.{name}", "message": "not an event id",
                                   "code": "invalid_parameter"}])
    return canon


def parse_asset_ids(value: str | None) -> list[str] | None:
    if not value:
        return None
    ids = [parse_id(v.strip(), "ast") for v in value.split(",") if v.strip()]
    if any(i is None for i in ids):
        raise BadRequest("asset_id must be asset ids", code="invalid_parameter")
    return ids  # type: ignore[return-value]


@router.get("/events", response_model=FeedEnvelope, operation_id="list_events")
def list_events(
    principal: ReadEvents,
    session: DbSession,
    after: Annotated[str | None, Query(description="Exclusive cursor: an event id", max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="1-1000")] = 100,
    event: Annotated[str | None, Query(description="Comma list; `finding.*` wildcards", max_length=1024)] = None,
    asset_id: Annotated[str | None, Query(description="Comma list of asset ids", max_length=4096)] = None,
):
    """Cursor feed of events, ascending by id."""
    cursor = parse_cursor(after)
    patterns = parse_patterns(event)
    gap = False
    if cursor is not None:
        oldest = service.oldest_id(session, principal.workspace_id)
        if oldest is not None and cursor < oldest and not _exists(session, cursor):
            gap, cursor = True, None  # older than retention: restart at the oldest retained event
    rows = service.feed(session, workspace_id=principal.workspace_id, after=cursor, limit=limit + 1,
                        patterns=patterns, asset_ids=parse_asset_ids(asset_id),
                        restriction_cond=_restriction(principal))
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_after = rows[-1].id if rows else (cursor if not gap else None) or (after and parse_id(after, "evt"))
    meta = {"next_after": next_after, "has_more": has_more, "limit": limit}
    if gap:
        meta["gap"] = True
    return {"data": [service.envelope(r) for r in rows], "meta": meta}


def _exists(session, event_id: str) -> bool:
    from sqlalchemy import select

    return session.execute(select(Event.seq).where(Event.id == event_id)).first() is not None


def _restriction(principal: Principal):
    if not principal.restricted:
        return None
    cond = asset_condition(principal.asset_restriction, Event.asset_id)
    # Restricted keys see only events bound to an allowed asset.
    return cond


@router.get("/events/{event_id}", response_model=Envelope[EventRead], operation_id="get_event")
def get_event(event_id: str, principal: ReadEvents, session: DbSession):
    """One event."""
    from sqlalchemy import select

    canon = parse_id(event_id, "evt")
    stmt = select(Event).where(Event.id == canon, Event.workspace_id == principal.workspace_id)
    cond = _restriction(principal)
    if cond is not None:
        stmt = stmt.where(cond)
    row = session.execute(stmt).scalar_one_or_none() if canon else None
    if row is None:
        raise NotFound("Event not found")
    return {"data": service.envelope(row), "meta": {}}
