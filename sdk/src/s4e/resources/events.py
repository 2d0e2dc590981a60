"""`client.events`: the cursor feed, one event, and the live SSE stream (api.md 2.6, events.md 3)."""

from __future__ import annotations

from typing import Literal, Optional

import httpx

from s4e._operations import operation
from s4e._sse import AsyncEventStream, SyncEventStream
from s4e._types import NOT_GIVEN, NotGiven, StrList, path_segment, query
from s4e.errors import APIResponseError
from s4e.models._base import CursorMeta, CursorPage
from s4e.models.event import EcsDocument, Event
from s4e.pagination import AsyncCursorPage, SyncCursorPage
from s4e.resources._base import AsyncResource, SyncResource

TextFormat = Literal["cef", "leef"]
DEFAULT_LIMIT = 100
"""The server's page size when `limit` is not given."""


def _path(event_id: str) -> str:
    return f"/events/{path_segment(event_id, 'event_id')}"


def text_params(format: str, limit: int | NotGiven, event: StrList | NotGiven,
                asset_id: StrList | NotGiven) -> dict[str, str]:
    if format not in ("cef", "leef"):
        raise ValueError("format must be 'cef' or 'leef' (use list() for JSON and list_ecs() for ECS)")
    return {**query(limit=limit, event=event, asset_id=asset_id), "format": format}


def text_page(response: httpx.Response, limit: int) -> CursorPage[str]:
    """A `format=cef|leef` answer as a page of lines; the cursor travels in X-S4E-* headers (no envelope)."""
    if not response.headers.get("content-type", "").startswith("text/plain"):
        raise APIResponseError("Expected text/plain CEF/LEEF lines (is the base URL the API root?)",
                               code="invalid_response", status_code=response.status_code,
                               request_id=response.headers.get("x-request-id"), response=response)
    lines = [line for line in response.text.split("\n") if line]
    meta = CursorMeta(next_after=response.headers.get("x-s4e-next-after"),
                      has_more=response.headers.get("x-s4e-has-more") == "true", limit=limit,
                      gap=True if response.headers.get("x-s4e-gap") == "true" else None)
    return CursorPage[str](data=lines, meta=meta)


def _after(params: dict[str, str], cursor: Optional[str]) -> dict[str, str]:
    return {**params, "after": cursor} if cursor else params


class Events(SyncResource):
    """Events: every change in the workspace, in commit order."""

    @operation("list_events")
    def list(self, *, after: Optional[str] = None, limit: int | NotGiven = NOT_GIVEN,
             event: StrList | NotGiven = NOT_GIVEN, asset_id: StrList | NotGiven = NOT_GIVEN) -> SyncCursorPage[Event]:
        """Events after the `after` cursor (exclusive; None = oldest retained), ascending, fetched lazily until
        nothing more is available. `event` takes names or `finding.*` wildcards. Save `.cursor` afterwards and
        pass it as `after` next time to continue where you stopped."""
        params = query(limit=limit, event=event, asset_id=asset_id)
        return self._cursor("/events", Event, params, after)

    @operation("list_events")
    def list_ecs(self, *, after: Optional[str] = None, limit: int | NotGiven = NOT_GIVEN,
                 event: StrList | NotGiven = NOT_GIVEN,
                 asset_id: StrList | NotGiven = NOT_GIVEN) -> SyncCursorPage[EcsDocument]:
        """The same feed as Elastic Common Schema documents (`format=ecs`), ready for Elasticsearch; same cursor
        semantics as `list()`."""
        params = {**query(limit=limit, event=event, asset_id=asset_id), "format": "ecs"}
        return self._cursor("/events", EcsDocument, params, after)

    @operation("list_events")
    def list_text(self, *, format: TextFormat, after: Optional[str] = None, limit: int | NotGiven = NOT_GIVEN,
                  event: StrList | NotGiven = NOT_GIVEN,
                  asset_id: StrList | NotGiven = NOT_GIVEN) -> SyncCursorPage[str]:
        """The same feed as ArcSight CEF or QRadar LEEF 2.0 lines (no syslog header), for SIEM forwarders:
        iterate for lines, store `.cursor` to continue."""
        params = text_params(format, limit, event, asset_id)
        size = DEFAULT_LIMIT if isinstance(limit, NotGiven) else limit

        def fetch(cursor: Optional[str]) -> CursorPage[str]:
            response = self._transport.request("GET", "/events", params=_after(params, cursor),
                                               headers={"Accept": "text/plain"})
            return text_page(response, size)

        return SyncCursorPage(fetch, after)

    @operation("get_event")
    def get(self, event_id: str) -> Event:
        """One event by id."""
        return self._get(_path(event_id), Event)

    @operation("stream_events")
    def stream(self, *, events: StrList | NotGiven = NOT_GIVEN, asset_id: StrList | NotGiven = NOT_GIVEN,
               last_event_id: Optional[str] = None, reconnect: bool = True) -> SyncEventStream:
        """Live events over Server-Sent Events. Iterate it (`for event in ...`); it reconnects by itself and
        resumes after the last event received (`Last-Event-ID`), so nothing is lost or repeated. Pass
        `last_event_id` to resume an earlier stream; close it (or use `with`) to stop."""
        return SyncEventStream(self._transport, query(events=events, asset_id=asset_id), last_event_id, reconnect)


class AsyncEvents(AsyncResource):
    """Events: every change in the workspace, in commit order (asyncio)."""

    @operation("list_events")
    def list(self, *, after: Optional[str] = None, limit: int | NotGiven = NOT_GIVEN,
             event: StrList | NotGiven = NOT_GIVEN,
             asset_id: StrList | NotGiven = NOT_GIVEN) -> AsyncCursorPage[Event]:
        """Events after the `after` cursor, ascending, fetched lazily (`async for`) until nothing more is
        available; `.cursor` is where to continue next time."""
        params = query(limit=limit, event=event, asset_id=asset_id)
        return self._cursor("/events", Event, params, after)

    @operation("list_events")
    def list_ecs(self, *, after: Optional[str] = None, limit: int | NotGiven = NOT_GIVEN,
                 event: StrList | NotGiven = NOT_GIVEN,
                 asset_id: StrList | NotGiven = NOT_GIVEN) -> AsyncCursorPage[EcsDocument]:
        """The same feed as Elastic Common Schema documents (`format=ecs`), `async for`."""
        params = {**query(limit=limit, event=event, asset_id=asset_id), "format": "ecs"}
        return self._cursor("/events", EcsDocument, params, after)

    @operation("list_events")
    def list_text(self, *, format: TextFormat, after: Optional[str] = None, limit: int | NotGiven = NOT_GIVEN,
                  event: StrList | NotGiven = NOT_GIVEN,
                  asset_id: StrList | NotGiven = NOT_GIVEN) -> AsyncCursorPage[str]:
        """The same feed as CEF or LEEF 2.0 lines (`async for`); store `.cursor` to continue."""
        params = text_params(format, limit, event, asset_id)
        size = DEFAULT_LIMIT if isinstance(limit, NotGiven) else limit

        async def fetch(cursor: Optional[str]) -> CursorPage[str]:
            response = await self._transport.request("GET", "/events", params=_after(params, cursor),
                                                     headers={"Accept": "text/plain"})
            return text_page(response, size)

        return AsyncCursorPage(fetch, after)

    @operation("get_event")
    async def get(self, event_id: str) -> Event:
        """One event by id."""
        return await self._get(_path(event_id), Event)

    @operation("stream_events")
    def stream(self, *, events: StrList | NotGiven = NOT_GIVEN, asset_id: StrList | NotGiven = NOT_GIVEN,
               last_event_id: Optional[str] = None, reconnect: bool = True) -> AsyncEventStream:
        """Live events over Server-Sent Events (`async for`), reconnecting and resuming by itself."""
        return AsyncEventStream(self._transport, query(events=events, asset_id=asset_id), last_event_id, reconnect)
