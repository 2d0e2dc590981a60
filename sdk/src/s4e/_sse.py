"""Server-Sent Events: an incremental decoder (WHATWG event-stream rules) and the resuming event streams.

The stream of `GET /events/stream` (events.md 3.2) reconnects by itself when the connection drops or the server
ends it (it does so hourly), waiting the server's `retry:` interval and sending `Last-Event-ID`, so events stored
while disconnected are replayed and none is yielded twice. Heartbeats are consumed silently.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Optional

import httpx

from s4e import _transport
from s4e.errors import APIConnectionError, APIResponseError
from s4e.models.event import Event

_EOL = re.compile(r"\r\n|\r|\n")
_DIGITS = re.compile(r"^[0-9]+$")
MAX_EVENT_BYTES = 16 * 1024 * 1024
"""A frame or line larger than this is a broken or hostile server, not an event (bodies are < 64 KiB)."""
DEFAULT_RETRY_MS = 5000
STREAM_PATH = "/events/stream"


@dataclass
class ServerSentEvent:
    """One dispatched frame."""

    event: str = "message"
    """The `event:` field (`message` when absent)."""
    data: str = ""
    """The `data:` lines joined with newlines."""
    id: Optional[str] = None
    """The `id:` field of this frame, None when the frame had none (e.g. `scan.progress`)."""


class SSEDecoder:
    """Feed it bytes as they arrive, in chunks of any size; it returns the frames completed so far."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")("replace")
        self._buffer = ""
        self._skip_lf = False
        self._started = False
        self._event = ""
        self._data: list[str] = []
        self._data_size = 0
        self._id: str | None = None
        self.last_event_id = ""
        """The stream's last event id buffer (persists across frames, like EventSource's)."""
        self.retry: int | None = None
        """Reconnection time in milliseconds, once the server sent `retry:`."""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        text = self._text.decode(chunk)
        if not self._started and text:
            self._started = True
            text = text[1:] if text.startswith("\ufeff") else text
        if self._skip_lf and text:
            # A CR ended the previous chunk: an LF opening this one belongs to the same line break.
            text = text[1:] if text.startswith("\n") else text
            self._skip_lf = False
        buffer = self._buffer + text
        events: list[ServerSentEvent] = []
        start = 0
        for match in _EOL.finditer(buffer):
            line = buffer[start:match.start()]
            start = match.end()
            if match.group() == "\r" and start == len(buffer):
                self._skip_lf = True
            event = self._line(line)
            if event is not None:
                events.append(event)
        self._buffer = buffer[start:]
        if len(self._buffer) > MAX_EVENT_BYTES:
            raise APIResponseError("Event stream line exceeds 16 MiB", code="invalid_response", status_code=200)
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None  # comment (keep-alive)
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
            self._data_size += len(value)
            if self._data_size > MAX_EVENT_BYTES:
                raise APIResponseError("Event stream frame exceeds 16 MiB", code="invalid_response",
                                       status_code=200)
        elif field == "id":
            if "\0" not in value:
                self.last_event_id = value
                self._id = value
        elif field == "retry":
            if _DIGITS.match(value):
                self.retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        event, data, frame_id = self._event, self._data, self._id
        self._event, self._data, self._data_size, self._id = "", [], 0, None
        if not data:
            return None
        return ServerSentEvent(event=event or "message", data="\n".join(data), id=frame_id)


def to_event(frame: ServerSentEvent) -> Event | None:
    """The Event a frame carries; None for heartbeats."""
    if frame.event == "heartbeat":
        return None
    try:
        payload: Any = json.loads(frame.data)
    except ValueError:
        raise APIResponseError(f"Event stream frame {frame.event!r} is not JSON", code="invalid_response",
                               status_code=200) from None
    if isinstance(payload, dict) and "event" in payload and "data" in payload:
        if frame.id and not payload.get("id"):
            payload = {**payload, "id": frame.id}
        return Event.model_validate(payload)
    return Event(id=frame.id or None, event=frame.event,
                 data=payload if isinstance(payload, dict) else {"value": payload})


class _StreamState:
    """Reconnection bookkeeping shared by the sync and async streams."""

    def __init__(self, transport: _transport.BaseTransport, params: Mapping[str, str],
                 last_event_id: str | None, reconnect: bool) -> None:
        self.transport = transport
        self.params = dict(params)
        self.last_event_id = last_event_id or None
        self.reconnect = reconnect
        self.retry_ms = DEFAULT_RETRY_MS
        self.failures = 0
        self.closed = False

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        return headers

    def on_frame(self, frame: ServerSentEvent) -> Event | None:
        if frame.id:
            # Before yielding: a consumer that stops after this event resumes after it, not before.
            self.last_event_id = frame.id
        return to_event(frame)

    def after_connection(self, decoder: SSEDecoder) -> None:
        if decoder.retry is not None:
            self.retry_ms = decoder.retry

    def failure_delay(self, exc: Exception) -> float:
        """Delay before reconnecting after a failed connection attempt; re-raises when giving up."""
        if not self.reconnect or self.closed or self.failures >= self.transport.retries:
            raise exc
        delay = max(self.retry_ms / 1000, _transport.backoff(self.failures))
        self.failures += 1
        return delay


class SyncEventStream:
    """Iterator of Events from `GET /events/stream`; close it (or use `with`) to disconnect.

    `last_event_id` is the id of the last stored event yielded: pass it as `last_event_id` to a later
    `client.events.stream(...)` to resume after a restart.
    """

    def __init__(self, transport: _transport.SyncTransport, params: Mapping[str, str],
                 last_event_id: str | None = None, reconnect: bool = True) -> None:
        self._state = _StreamState(transport, params, last_event_id, reconnect)
        self._transport = transport
        self._response: httpx.Response | None = None

    @property
    def last_event_id(self) -> str | None:
        """Id of the last stored event received (the resume point)."""
        return self._state.last_event_id

    def __iter__(self) -> Iterator[Event]:
        state = self._state
        while not state.closed:
            try:
                self._response = self._transport.request("GET", STREAM_PATH, params=state.params,
                                                         headers=state.headers(), stream=True)
            except APIConnectionError as exc:
                _transport._sleep(state.failure_delay(exc))
                continue
            state.failures = 0
            decoder = SSEDecoder()
            try:
                for chunk in self._response.iter_bytes():
                    for frame in decoder.feed(chunk):
                        event = state.on_frame(frame)
                        if event is not None:
                            yield event
            except httpx.TransportError as exc:
                if not state.reconnect or state.closed:
                    raise APIConnectionError(f"Event stream interrupted: {exc or type(exc).__name__}") from exc
            finally:
                self._response.close()
                state.after_connection(decoder)
            if not state.reconnect:
                return
            if not state.closed:
                _transport._sleep(state.retry_ms / 1000)

    def close(self) -> None:
        """Disconnect and stop iterating."""
        self._state.closed = True
        if self._response is not None:
            self._response.close()

    def __enter__(self) -> SyncEventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncEventStream:
    """The asyncio twin of SyncEventStream: `async for event in client.events.stream(...)`."""

    def __init__(self, transport: _transport.AsyncTransport, params: Mapping[str, str],
                 last_event_id: str | None = None, reconnect: bool = True) -> None:
        self._state = _StreamState(transport, params, last_event_id, reconnect)
        self._transport = transport
        self._response: httpx.Response | None = None

    @property
    def last_event_id(self) -> str | None:
        """Id of the last stored event received (the resume point)."""
        return self._state.last_event_id

    async def __aiter__(self) -> AsyncIterator[Event]:
        state = self._state
        while not state.closed:
            try:
                self._response = await self._transport.request("GET", STREAM_PATH, params=state.params,
                                                               headers=state.headers(), stream=True)
            except APIConnectionError as exc:
                await _transport._async_sleep(state.failure_delay(exc))
                continue
            state.failures = 0
            decoder = SSEDecoder()
            try:
                async for chunk in self._response.aiter_bytes():
                    for frame in decoder.feed(chunk):
                        event = state.on_frame(frame)
                        if event is not None:
                            yield event
            except httpx.TransportError as exc:
                if not state.reconnect or state.closed:
                    raise APIConnectionError(f"Event stream interrupted: {exc or type(exc).__name__}") from exc
            finally:
                await self._response.aclose()
                state.after_connection(decoder)
            if not state.reconnect:
                return
            if not state.closed:
                await _transport._async_sleep(state.retry_ms / 1000)

    async def aclose(self) -> None:
        """Disconnect and stop iterating."""
        self._state.closed = True
        if self._response is not None:
            await self._response.aclose()

    async def __aenter__(self) -> AsyncEventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
