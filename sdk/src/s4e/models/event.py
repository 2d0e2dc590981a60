"""Events (events.md 1.1) as returned by the feed, `GET /events/{id}`, the SSE stream and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from pydantic import Field

from s4e.models._base import S4EModel


class Actor(S4EModel):
    """Who caused an event."""

    type: str
    """`user`, `api_key`, `oauth_client`, `agent` or `system`."""
    id: Optional[str] = None
    """`usr_`/`key_`/`cli_`/`agt_` id, or None for the system."""
    name: Optional[str] = None
    """Email, key name, agent name or subsystem (`scanner`, `scheduler` ...)."""


class Event(S4EModel):
    """One event envelope.

    Stored events always have `id`, `timestamp` and `actor`; SSE-only frames (`scan.progress`, and the `gap`
    notice of a resumed stream) have `id` None and may lack the others.
    """

    id: Optional[str] = None
    """`evt_` ULID, ascending in commit order; the webhook-id of deliveries."""
    event: str
    """Event type, e.g. `finding.new`, `asset.created`."""
    timestamp: Optional[datetime] = None
    """When the change committed."""
    workspace_id: Optional[str] = None
    """Workspace (`wsp_`)."""
    actor: Optional[Actor] = None
    """Who caused it."""
    data: dict[str, Any] = Field(default_factory=dict)
    """Type-specific payload (events.md 1.2)."""


class EcsDocument(S4EModel):
    """One event as an Elastic Common Schema 8.11 document (`format=ecs`, events.md 4.4).

    Fields without a value are absent. Forward `to_dict()` to Elasticsearch unchanged: it keeps `@timestamp`.
    """

    timestamp: str = Field(alias="@timestamp")
    """`@timestamp`: when the change committed (RFC 3339, as sent)."""
    message: str
    """Finding title or event summary."""
    ecs: dict[str, Any] = Field(default_factory=dict)
    """`{"version": ...}` of the schema."""
    event: dict[str, Any] = Field(default_factory=dict)
    """ECS `event.*`: `id` (the evt_ id), `action` (event type), `kind`, `category`, `severity` ..."""
    s4e: dict[str, Any] = Field(default_factory=dict)
    """S4E fields without an ECS equivalent."""

    def to_dict(self) -> dict[str, Any]:
        """The document as the server sent it (`@timestamp` under its ECS name)."""
        return self.model_dump(mode="json", by_alias=True)
