"""Writing events into the outbox (same transaction as the change) and reading the published feed."""

from __future__ import annotations

import fnmatch
import re

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from s4e_platform.db.session import after_commit
from s4e_platform.event import hub
from s4e_platform.event.models import Event
from s4e_platform.kit.clock import isoformat, utcnow
from s4e_platform.kit.text import like_escape

_EVENT_PATTERN = re.compile(r"^(\*|[a-z_]+)(\.(\*|[a-z_]+))*$")  # `*` stands for one whole segment


def record(session: Session, *, workspace_id: str | None, event: str, data: dict, actor: dict,
           asset_id: str | None = None) -> Event:
    """Add an event to the outbox. It becomes visible (gets its `evt_` id) after commit."""
    row = Event(workspace_id=workspace_id, event=event, data=data, actor=actor, asset_id=asset_id)
    session.add(row)
    if session.get_bind().dialect.name == "postgresql":
        # NOTIFY is transactional: the publisher is woken exactly when this commit lands.
        session.execute(text("SELECT pg_notify('s4e_outbox', '')"))
    after_commit(session, hub.outbox_committed)
    return row


def record_many(session: Session, events: list[dict]) -> None:
    """`record` for a batch (e.g. one scan's new findings): one multi-row INSERT instead of one flush per event.
    Each item has the keyword arguments of `record` (`workspace_id`, `event`, `data`, `actor`, `asset_id`)."""
    if not events:
        return
    from sqlalchemy import insert

    now = utcnow()
    session.execute(insert(Event), [{"workspace_id": e["workspace_id"], "event": e["event"], "data": e["data"],
                                     "actor": e["actor"], "asset_id": e.get("asset_id"), "created_at": now}
                                    for e in events])
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify('s4e_outbox', '')"))
    after_commit(session, hub.outbox_committed)


def envelope(row: Event) -> dict:
    """The public event envelope (events.md 1.1)."""
    return {"id": row.id, "event": row.event, "timestamp": isoformat(row.created_at),
            "workspace_id": row.workspace_id, "actor": row.actor, "data": row.data}


def valid_pattern(pattern: str) -> bool:
    return bool(_EVENT_PATTERN.match(pattern))


def matches(event_type: str, patterns: list[str] | None) -> bool:
    """`finding.*` style wildcards, `*` for everything."""
    if not patterns:
        return True
    return any(p == "*" or fnmatch.fnmatchcase(event_type, p) for p in patterns)


def sql_patterns(col, patterns: list[str]):
    """SQL condition for a list of event patterns (wildcards become LIKE)."""
    from sqlalchemy import or_

    conds = []
    for p in patterns:
        if p == "*":
            return None
        if "*" in p:
            conds.append(col.like(like_escape(p).replace("*", "%"), escape="\\"))
        else:
            conds.append(col == p)
    return or_(*conds)


def feed(session: Session, *, workspace_id: str, after: str | None, limit: int, patterns: list[str] | None,
         asset_ids: list[str] | None = None, restriction_cond=None) -> list[Event]:
    stmt = select(Event).where(Event.workspace_id == workspace_id, Event.id.is_not(None))
    if after:
        stmt = stmt.where(Event.id > after)
    if patterns:
        cond = sql_patterns(Event.event, patterns)
        if cond is not None:
            stmt = stmt.where(cond)
    if asset_ids:
        stmt = stmt.where(Event.asset_id.in_(asset_ids))
    if restriction_cond is not None:
        stmt = stmt.where(restriction_cond)
    return list(session.execute(stmt.order_by(Event.id).limit(limit)).scalars())


def oldest_id(session: Session, workspace_id: str) -> str | None:
    return session.execute(select(Event.id).where(Event.workspace_id == workspace_id, Event.id.is_not(None))
                           .order_by(Event.id).limit(1)).scalar_one_or_none()
