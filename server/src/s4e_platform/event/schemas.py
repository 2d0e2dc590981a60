"""Event envelope shapes (events.md 1.1)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class Actor(BaseModel):
    type: Literal["user", "api_key", "oauth_client", "agent", "system"]
    id: str | None
    name: str | None


class EventRead(BaseModel):
    id: str
    event: str
    timestamp: str
    workspace_id: str | None
    actor: Actor
    data: dict[str, Any]


class FeedMeta(BaseModel):
    next_after: str | None
    has_more: bool
    limit: int
    gap: bool | None = None


class FeedEnvelope(BaseModel):
    data: list[EventRead]
    meta: FeedMeta
