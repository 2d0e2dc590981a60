"""Events feed (cursor; json, ecs, cef, leef) and single event (api.md 2.6, events.md 3.1)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from s4e_platform.auth.dependencies import DbSession, require
from s4e_platform.auth.principal import Principal
from s4e_platform.auth.restriction import asset_condition
from s4e_platform.db.scoping import register
from s4e_platform.errors import BadRequest, NotFound
from s4e_platform.event import formats, service
from s4e_platform.event.models import Event
from s4e_platform.event.schemas import EventRead, FeedEnvelope, FeedMeta
from s4e_platform.kit.ids import parse_id
from s4e_platform.kit.router import api_router
from s4e_platform.kit.schemas import Envelope

register("evt", Event)
router = api_router(tags=["events"])
ReadEvents = Annotated[Principal, Depends(require("read:events"))]
FeedFormat = Literal["json", "ecs", "cef", "leef"]


class EcsDocument(BaseModel):
    """An ECS 8.11 document (events.md 4.4); fields without a value are left out."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    timestamp: str = Field(alias="@timestamp")
    message: str
    ecs: dict[str, Any]
    event: dict[str, Any]
    s4e: dict[str, Any]


class EcsFeedEnvelope(BaseModel):
    data: list[EcsDocument]
    meta: FeedMeta


_TEXT_EXAMPLE = ("CEF:0|S4E|Platform|1.0.0|finding.new|TLS 1.0 enabled|5|rt=1777377600000 "
                 "externalId=evt_01hv9c4k2m7q8r5t3w6x0y1z2a cat=tls dhost=app.example.com ...\n")
_FEED_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "description": "`format=json|ecs`: the JSON envelope. `format=cef|leef`: `text/plain`, one record per line "
                   "(no syslog header), the cursor in the headers.",
    "content": {"text/plain": {"schema": {"type": "string"}, "example": _TEXT_EXAMPLE}},
    "headers": {
        "X-S4E-Next-After": {"description": "`format=cef|leef`: cursor for the next call (absent when the "
                                            "workspace has no event yet)", "schema": {"type": "string"}},
        "X-S4E-Has-More": {"description": "`format=cef|leef`: `true` when more events are ready",
                           "schema": {"type": "string", "enum": ["true", "false"]}},
        "X-S4E-Gap": {"description": "`format=cef|leef`: `true` when `after` was older than retention "
                                     "(the feed restarted at the oldest retained event)",
                      "schema": {"type": "string", "enum": ["true"]}},
    }}}


def _bad_parameter(name: str, message: str, where: str = "query") -> BadRequest:
    return BadRequest(f"{name}: {message}", code="invalid_parameter",
                      details=[{"path": f"{where}.{name}", "message": message, "code": "invalid_parameter"}])


def parse_patterns(value: str | None, name: str = "event") -> list[str] | None:
    """Comma list of event names and `finding.*` style wildcards."""
    if not value:
        return None
    patterns = [p.strip() for p in value.split(",") if p.strip()]
    for p in patterns:
        if not service.valid_pattern(p):
            raise _bad_parameter(name, f"{p!r} is not an event name or wildcard")
    return patterns or None


def parse_cursor(value: str | None, name: str = "after", where: str = "query") -> str | None:
    if value is None or value.strip() == "":
        return None
    canon = parse_id(value.strip(), "evt")
    if canon is None:
        raise _bad_parameter(name, "not an event id (evt_...)", where)
    return canon


def parse_asset_ids(value: str | None, name: str = "asset_id") -> list[str] | None:
    if not value:
        return None
    ids = [parse_id(v.strip(), "ast") for v in value.split(",") if v.strip()]
    if any(i is None for i in ids):
        raise _bad_parameter(name, "must be a comma list of asset ids (ast_...)")
    return ids or None  # type: ignore[return-value]


def restriction(principal: Principal):
    """SQL condition for a key's asset restriction: restricted keys see only events of allowed assets."""
    if not principal.restricted:
        return None
    return asset_condition(principal.asset_restriction, Event.asset_id)


def resolve_start(session: Session, workspace_id: str, cursor: str | None) -> tuple[str | None, str | None]:
    """(cursor to read after, oldest retained id when `cursor` fell out of retention else None)."""
    if cursor is None:
        return None, None
    oldest = service.oldest_id(session, workspace_id)
    if oldest is not None and cursor < oldest:
        return None, oldest  # older than the oldest retained event: restart there (events.md 3.1)
    return cursor, None


@router.get("/events", response_model=FeedEnvelope | EcsFeedEnvelope, operation_id="list_events",
            responses=_FEED_RESPONSES)
def list_events(
    principal: ReadEvents,
    session: DbSession,
    after: Annotated[str | None, Query(description="Exclusive cursor: an event id", max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="1-1000")] = 100,
    event: Annotated[str | None, Query(description="Comma list; `finding.*` wildcards", max_length=1024)] = None,
    asset_id: Annotated[str | None, Query(description="Comma list of asset ids", max_length=4096)] = None,
    format: Annotated[FeedFormat, Query(description="`json` envelopes (default), `ecs` documents, or "
                                                    "`cef`/`leef` text lines")] = "json",
):
    """Cursor feed of events, ascending by id."""
    requested = parse_cursor(after)
    patterns = parse_patterns(event)
    asset_ids = parse_asset_ids(asset_id)
    cursor, oldest = resolve_start(session, principal.workspace_id, requested)
    rows = service.feed(session, workspace_id=principal.workspace_id, after=cursor, limit=limit + 1,
                        patterns=patterns, asset_ids=asset_ids, restriction_cond=restriction(principal))
    has_more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        next_after = rows[-1].id
    elif oldest is not None:
        next_after = oldest  # restarted at the oldest event, and nothing from there on matches
    else:
        next_after = requested  # nothing new: poll again with the same cursor
    envelopes = [service.envelope(r) for r in rows]
    if format in ("cef", "leef"):
        render = formats.to_cef if format == "cef" else formats.to_leef
        headers = {"X-S4E-Has-More": "true" if has_more else "false"}
        if next_after:
            headers["X-S4E-Next-After"] = next_after
        if oldest is not None:
            headers["X-S4E-Gap"] = "true"
        return PlainTextResponse("".join(render(e) + "\n" for e in envelopes), headers=headers)
    meta = {"next_after": next_after, "has_more": has_more, "limit": limit, "gap": oldest is not None}
    if format == "ecs":
        return {"data": [formats.to_ecs(e) for e in envelopes], "meta": meta}
    return {"data": envelopes, "meta": meta}


@router.get("/events/{event_id}", response_model=Envelope[EventRead], operation_id="get_event")
def get_event(event_id: str, principal: ReadEvents, session: DbSession):
    """One event."""
    canon = parse_id(event_id, "evt")
    if canon is None:
        raise NotFound("Event not found")
    stmt = select(Event).where(Event.id == canon, Event.workspace_id == principal.workspace_id)
    cond = restriction(principal)
    if cond is not None:
        stmt = stmt.where(cond)
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise NotFound("Event not found")
    return {"data": service.envelope(row), "meta": {}}
