"""`client.events`: the cursor feed, one event, and the live SSE stream (api.md 2.6, events.md 3)."""

from __future__ import annotations

from typing import Optional

from s4e._sse import AsyncEventStream, SyncEventStream
from s4e._types import NOT_GIVEN, NotGiven, StrList, path_segment, query
from s4e.models.event import Event
from s4e.pagination import AsyncCursorPage, SyncCursorPage
from s4e.resources._base import AsyncResource, SyncResource


def _path(event_id: str) -> str:
    return f"/events/{path_segment(event_id, 'event_id')}"


class Events(SyncResource):
    """Events: every change in the workspace, in commit order."""

    def list(self, *, after: Optional[str] = None, limit: int | NotGiven = NOT_GIVEN,
             event: StrList | NotGiven = NOT_GIVEN, asset_id: StrList | NotGiven = NOT_GIVEN) -> SyncCursorPage[Event]:
        """Events after the `after` cursor (exclusive; None = oldest retained), ascending, fetched lazily until
        nothing more is available. `event` takes names or `finding.*` wildcards. Save `.cursor` afterwards and
        pass it as `after` next time to continue where you stopped."""
        params = query(limit=limit, event=event, asset_id=asset_id)
        return self._cursor("/events", Event, params, after)

    def get(self, event_id: str) -> Event:
        """One event by id."""
        return self._get(_path(event_id), Event)

    def stream(self, *, events: StrList | NotGiven = NOT_GIVEN, asset_id: StrList | NotGiven = NOT_GIVEN,
               last_event_id: Optional[str] = None, reconnect: bool = True) -> SyncEventStream:
        """Live events over Server-Sent Events. Iterate it (`for event in ...`); it reconnects by itself and
        resumes after the last event received (`Last-Event-ID`), so nothing is lost or repeated. Pass
        `last_event_id` to resume an earlier stream; close it (or use `with`) to stop."""
        return SyncEventStream(self._transport, query(events=events, asset_id=asset_id), last_event_id, reconnect)


class AsyncEvents(AsyncResource):
    """Events: every change in the workspace, in commit order (asyncio)."""

    def list(self, *, after: Optional[str] = None, limit: int | NotGiven = NOT_GIVEN,
             event: StrList | NotGiven = NOT_GIVEN,
             asset_id: StrList | NotGiven = NOT_GIVEN) -> AsyncCursorPage[Event]:
        """Events after the `after` cursor, ascending, fetched lazily (`async for`) until nothing more is
        available; `.cursor` is where to continue next time."""
        params = query(limit=limit, event=event, asset_id=asset_id)
        return self._cursor("/events", Event, params, after)

    async def get(self, event_id: str) -> Event:
        """One event by id."""
        return await self._get(_path(event_id), Event)

    def stream(self, *, events: StrList | NotGiven = NOT_GIVEN, asset_id: StrList | NotGiven = NOT_GIVEN,
               last_event_id: Optional[str] = None, reconnect: bool = True) -> AsyncEventStream:
        """Live events over Server-Sent Events (`async for`), reconnecting and resuming by itself."""
        return AsyncEventStream(self._transport, query(events=events, asset_id=asset_id), last_event_id, reconnect)
