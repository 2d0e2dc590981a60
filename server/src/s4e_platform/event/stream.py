"""Server-Sent Events stream of a workspace's events (events.md 3.2, api.md 2.6).

A stream follows the same cursor as the feed: it reads stored events after its position in short read-only
sessions (threadpool) and sleeps until the publisher announces new ids. One watcher thread per process waits on
`hub.wait_for_publish` and wakes the asyncio event of every open stream, so an idle stream holds no thread;
in scale-out mode the Redis bridge relays publishes of the scheduler process into that same condition.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Header, Query
from sqlalchemy import and_, func, select
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from s4e_platform.auth.principal import Principal
from s4e_platform.auth.restriction import asset_allowed
from s4e_platform.config import get_settings
from s4e_platform.db.session import unit_of_work
from s4e_platform.errors import RateLimited
from s4e_platform.event import ephemeral, hub, service
from s4e_platform.event.endpoints import (
    ReadEvents,
    parse_asset_ids,
    parse_cursor,
    parse_patterns,
    resolve_start,
    restriction,
)
from s4e_platform.event.models import Event
from s4e_platform.kit.clock import isoformat, utcnow
from s4e_platform.kit.ids import new_id
from s4e_platform.kit.router import STANDARD_ERRORS, api_router

log = logging.getLogger("s4e.sse")
router = api_router(tags=["events"])

MAX_STREAMS = 5  # per principal (api.md 1.9)
RETRY_MS = 5000
BATCH = 500
PROGRESS_EVERY = 2.0  # events.md 3.2: scan.progress at most one per scan per 2 s


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"


# --- concurrent-stream slots (leases, so a crashed process frees its slots by itself) ------------------------

class _MemorySlots:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, dict[str, float]] = {}

    def acquire(self, key: str, slot: str, limit: int, ttl: float) -> bool:
        now = time.time()
        with self._lock:
            held = {s: exp for s, exp in self._held.get(key, {}).items() if exp > now}
            allowed = len(held) < limit
            if allowed:
                held[slot] = now + ttl
            self._held[key] = held
            return allowed

    def refresh(self, key: str, slot: str, ttl: float) -> None:
        with self._lock:
            held = self._held.get(key, {})
            if slot in held:
                held[slot] = time.time() + ttl

    def release(self, key: str, slot: str) -> None:
        with self._lock:
            held = self._held.get(key, {})
            held.pop(slot, None)
            if not held:
                self._held.pop(key, None)


_ACQUIRE_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class _RedisSlots:
    """Shared by every API replica: a sorted set of slot ids scored by lease expiry."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._acquire = self._redis.register_script(_ACQUIRE_LUA)

    def acquire(self, key: str, slot: str, limit: int, ttl: float) -> bool:
        now = time.time()
        return bool(self._acquire(keys=[key], args=[now, now + ttl, limit, slot, int(ttl) + 1]))

    def refresh(self, key: str, slot: str, ttl: float) -> None:
        self._redis.zadd(key, {slot: time.time() + ttl}, xx=True)
        self._redis.expire(key, int(ttl) + 1)

    def release(self, key: str, slot: str) -> None:
        self._redis.zrem(key, slot)


_slots_lock = threading.Lock()
_slots: dict[str | None, _MemorySlots | _RedisSlots] = {}


def _slot_store() -> _MemorySlots | _RedisSlots:
    url = get_settings().redis_url
    with _slots_lock:
        if url not in _slots:
            _slots[url] = _RedisSlots(url) if url else _MemorySlots()
        return _slots[url]


@dataclass
class _Slot:
    """One stream's lease on its principal's slots; release is idempotent (several exits lead to it)."""

    principal_key: str
    ttl: float
    id: str = field(default_factory=lambda: new_id("req"))
    _released: bool = False

    @property
    def key(self) -> str:
        return f"s4e:sse:{self.principal_key}"

    def acquire(self) -> bool:
        try:
            return _slot_store().acquire(self.key, self.id, MAX_STREAMS, self.ttl)
        except Exception:  # a Redis outage must not take streaming down with it
            log.warning("stream slot store unavailable; not limiting", exc_info=True)
            return True

    def refresh(self) -> None:
        try:
            _slot_store().refresh(self.key, self.id, self.ttl)
        except Exception:
            log.warning("stream slot refresh failed", exc_info=True)

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        try:
            _slot_store().release(self.key, self.id)
        except Exception:
            log.warning("stream slot release failed; the lease expires by itself", exc_info=True)


# --- wake-ups ----------------------------------------------------------------------------------------------

class _Waker:
    """One daemon thread per process turning hub publishes into asyncio wake-ups of every open stream."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._thread: threading.Thread | None = None

    def subscribe(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Event]:
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._streams.add(entry)
            if self._thread is None or not self._thread.is_alive():
                # The generation is read here, before the stream's first query, so no publish between the
                # two can be missed while the thread starts.
                self._thread = threading.Thread(target=self._run, args=(hub.generation(),),
                                                name="s4e-sse-waker", daemon=True)
                self._thread.start()
        return entry

    def unsubscribe(self, entry: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        with self._lock:
            self._streams.discard(entry)

    def _run(self, seen: int) -> None:
        while True:
            current = hub.wait_for_publish(seen, timeout=30.0)
            if current == seen:
                continue
            seen = current
            with self._lock:
                entries = list(self._streams)
            for entry in entries:
                loop, event = entry
                try:
                    loop.call_soon_threadsafe(event.set)
                except RuntimeError:  # that stream's event loop is gone
                    self.unsubscribe(entry)
                except Exception:  # never let one stream stop the wake-ups of all others
                    log.exception("waking an event stream failed")


_waker = _Waker()


# --- the stream --------------------------------------------------------------------------------------------

@dataclass
class _Stream:
    workspace_id: str
    patterns: list[str] | None
    asset_ids: list[str] | None
    restriction: Any
    cursor: str | None
    gap: dict | None = None
    # Ephemeral frames (scan.progress): buffer position, the credential's asset restriction, per-scan throttle.
    restriction_spec: dict | None = None
    ephemeral_seq: int = 0
    sent_at: dict = field(default_factory=dict)
    allowed: dict = field(default_factory=dict)

    def ephemeral_frames(self, now: float) -> list[str]:
        """New scan.progress frames for this stream (threadpool: a tag restriction reads the database), at most
        one per scan per PROGRESS_EVERY seconds; no `id:` so Last-Event-ID stays on the last stored event."""
        frames, self.ephemeral_seq = ephemeral.since(self.ephemeral_seq, self.workspace_id)
        out = []
        for f in frames:
            if not service.matches(f.event, self.patterns):
                continue
            if self.asset_ids and f.asset_id not in self.asset_ids:
                continue
            if self.restriction_spec and not self._allowed(f.asset_id):
                continue
            key = f.data.get("scan_id")
            if now - self.sent_at.get(key, -PROGRESS_EVERY) < PROGRESS_EVERY and f.data.get("progress") != 100:
                continue
            self.sent_at[key] = now
            out.append(_frame(f.event, f.data))
        return out

    def _allowed(self, asset_id: str | None) -> bool:
        if asset_id is None:
            return False
        if asset_id not in self.allowed:
            with unit_of_work(readonly=True) as session:
                self.allowed[asset_id] = asset_allowed(session, self.restriction_spec, asset_id)
        return self.allowed[asset_id]

    def fetch(self) -> tuple[list[dict], bool]:
        """Next stored events after the cursor (threadpool). The cursor moves to the newest id seen even when
        nothing matches the filters, so a rarely matching stream does not rescan the same rows on every wake;
        reading that high-water mark first means every event up to it is already visible to the second query."""
        with unit_of_work(readonly=True) as session:
            high = session.execute(select(func.max(Event.id)).where(
                Event.workspace_id == self.workspace_id)).scalar_one_or_none()
            if high is None or (self.cursor is not None and high <= self.cursor):
                return [], False
            cond = Event.id <= high if self.restriction is None else and_(Event.id <= high, self.restriction)
            rows = service.feed(session, workspace_id=self.workspace_id, after=self.cursor, limit=BATCH,
                                patterns=self.patterns, asset_ids=self.asset_ids, restriction_cond=cond)
            envelopes = [service.envelope(r) for r in rows]
        more = len(rows) == BATCH
        self.cursor = rows[-1].id if more else high
        return envelopes, more


def _open(principal: Principal, patterns, asset_ids, resume: str | None) -> _Stream:
    """Starting point: after `resume` (replay), else after the newest event (live only)."""
    with unit_of_work(readonly=True) as session:
        gap = None
        if resume is not None:
            cursor, oldest = resolve_start(session, principal.workspace_id, resume)
            if oldest is not None:
                gap = {"requested": resume, "oldest_available": oldest}
        else:
            cursor = session.execute(select(func.max(Event.id)).where(
                Event.workspace_id == principal.workspace_id)).scalar_one_or_none()
    return _Stream(principal.workspace_id, patterns, asset_ids, restriction(principal), cursor, gap,
                   restriction_spec=dict(principal.asset_restriction) if principal.restricted else None,
                   ephemeral_seq=ephemeral.last_seq())


def _frame(event: str, data: dict, event_id: str | None = None) -> str:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)  # JSON never holds a raw newline
    return (f"id: {event_id}\n" if event_id else "") + f"event: {event}\ndata: {body}\n\n"


async def _frames(stream: _Stream, slot: _Slot) -> AsyncIterator[str]:
    settings = get_settings()
    heartbeat = max(0.05, settings.sse_heartbeat_seconds)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.sse_max_seconds
    next_beat = loop.time() + heartbeat
    entry = _waker.subscribe()
    try:
        yield f"retry: {RETRY_MS}\n\n"
        if stream.gap is not None:
            yield _frame("gap", stream.gap)
        while True:
            entry[1].clear()  # before reading: a publish during the read wakes the next wait at once
            envelopes, more = await run_in_threadpool(stream.fetch)
            if envelopes:
                yield "".join(_frame(e["event"], e, e["id"]) for e in envelopes)
            if ephemeral.since_has(stream.ephemeral_seq):
                progress = await run_in_threadpool(stream.ephemeral_frames, loop.time())
                if progress:
                    yield "".join(progress)
            now = loop.time()
            if now >= deadline:
                return  # clients reconnect with Last-Event-ID, which re-balances them across replicas
            if now >= next_beat:
                yield _frame("heartbeat", {"timestamp": isoformat(utcnow())})
                next_beat = now + heartbeat
                await run_in_threadpool(slot.refresh)
            if more:
                continue
            try:
                await asyncio.wait_for(entry[1].wait(), timeout=min(next_beat, deadline) - now)
            except TimeoutError:
                pass
    finally:
        _waker.unsubscribe(entry)
        # Cancellation (client gone) forbids awaiting here; the release runs in the default executor.
        try:
            loop.run_in_executor(None, slot.release)
        except RuntimeError:  # executor already shut down: the process is stopping
            slot.release()


# Errors are JSON envelopes even though the success type is text/event-stream, so they are spelled out here
# (an error `model` would be documented under the route's media type).
_JSON_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": spec["description"],
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}
    for code, spec in STANDARD_ERRORS.items()}
_JSON_ERRORS[429]["description"] = f"Rate limited, or {MAX_STREAMS} streams of this credential already open"
# The schema of one SSE frame (how OpenAPI tools such as schemathesis read a text/event-stream schema).
_FRAME_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "string", "description": "Event id (stored events only; what Last-Event-ID resumes from)"},
    "event": {"type": "string", "description": "Event type, `scan.progress`, `heartbeat` or `gap`"},
    "data": {"type": "string", "contentMediaType": "application/json",
             "description": "The event envelope; heartbeat `{timestamp}`; gap `{requested, oldest_available}`"},
    "retry": {"type": "integer", "description": "Reconnection delay in milliseconds (first frame)"}}}
_STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {**_JSON_ERRORS, 200: {
    "description": "`text/event-stream`: first `retry: 5000`, then one frame per stored event (`id`, `event`, "
                   "`data` = the event envelope), `event: scan.progress` frames (`{scan_id, progress, phase}`, never "
                   "stored, no `id`, at most one per scan per 2 s), `event: heartbeat` frames, and `event: gap` "
                   "(`{requested, oldest_available}`) when the resume id is older than retention.",
    "content": {"text/event-stream": {"schema": _FRAME_SCHEMA, "example":
                "retry: 5000\n\nid: evt_01hv9c4k2m7q8r5t3w6x0y1z2a\nevent: asset.created\ndata: {\"id\":...}\n\n"}},
}}


@router.get("/events/stream", response_class=EventStreamResponse, response_model=None,
            operation_id="stream_events", responses=_STREAM_RESPONSES)
async def stream_events(
    principal: ReadEvents,
    events: Annotated[str | None, Query(description="Comma list; `finding.*` wildcards", max_length=1024)] = None,
    asset_id: Annotated[str | None, Query(description="Comma list of asset ids", max_length=4096)] = None,
    token: Annotated[str | None, Query(
        description="API key or OAuth access token for clients that cannot send headers (browser "
                    "EventSource); accepted on this endpoint only", max_length=4096)] = None,
    last_event_id: Annotated[str | None, Query(description="Resume after this event id (the `Last-Event-ID` "
                                                           "header wins when both are sent)", max_length=64)] = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64,
                                                       description="Resume after this event id")] = None,
) -> EventStreamResponse:
    """Live stream of events (Server-Sent Events)."""
    del token  # authenticated by the `ReadEvents` dependency; declared so it is accepted and documented
    patterns = parse_patterns(events, "events")
    asset_ids = parse_asset_ids(asset_id)
    if last_event_id_header is not None and last_event_id_header.strip():
        resume = parse_cursor(last_event_id_header, "Last-Event-ID", "header")
    else:
        resume = parse_cursor(last_event_id, "last_event_id")
    settings = get_settings()
    if settings.redis_url:
        hub.start_redis_bridge(settings.redis_url)  # publishes happen in the scheduler process
        ephemeral.start_subscriber(settings.redis_url)  # scan.progress from workers
    slot = _Slot(principal.rate_key(), ttl=max(60.0, 3 * settings.sse_heartbeat_seconds))
    if not await run_in_threadpool(slot.acquire):
        retry = RETRY_MS // 1000
        raise RateLimited(f"At most {MAX_STREAMS} concurrent event streams per credential",
                          details={"retry_after": retry}, headers={"Retry-After": str(retry)})
    try:
        stream = await run_in_threadpool(_open, principal, patterns, asset_ids, resume)
    except BaseException:
        await run_in_threadpool(slot.release)
        raise
    return EventStreamResponse(_frames(stream, slot), background=BackgroundTask(slot.release),
                               headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
