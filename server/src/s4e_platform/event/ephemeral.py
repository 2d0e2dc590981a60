"""Events that are streamed but never stored or delivered: `scan.progress` (events.md 1.2, 3.2).

A running task's heartbeat calls `publish()`. Without Redis (embedded mode, one process) the frame goes into this
process's ring buffer; with `S4E_REDIS_URL` it is published on a Redis channel and every process running SSE
streams (API replicas) copies it into its own buffer from a subscriber thread, so a Celery worker's progress
reaches streams on any replica. Streams read the buffer by sequence number after each wake-up; a stream that
falls more than the buffer behind just misses frames, which is fine for progress (the next one supersedes it).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from dataclasses import dataclass

from s4e_platform.config import get_settings
from s4e_platform.event import hub

log = logging.getLogger("s4e.events")
CHANNEL = "s4e:events:ephemeral"
BUFFER = 2048


@dataclass(frozen=True)
class Frame:
    seq: int
    workspace_id: str
    asset_id: str | None
    event: str
    data: dict


_lock = threading.Lock()
_frames: deque[Frame] = deque(maxlen=BUFFER)
_seq = 0
_redis = None
_subscriber: threading.Thread | None = None


def _append(workspace_id: str, asset_id: str | None, event: str, data: dict) -> None:
    global _seq
    with _lock:
        _seq += 1
        _frames.append(Frame(_seq, workspace_id, asset_id, event, data))
    hub.notify_streams()


def publish(*, workspace_id: str, asset_id: str | None, event: str, data: dict) -> None:
    """Hand a frame to every open stream (never raises: progress must not break a scan)."""
    url = get_settings().redis_url
    try:
        if url:
            global _redis
            if _redis is None:
                import redis

                _redis = redis.Redis.from_url(url)
            _redis.publish(CHANNEL, json.dumps({"workspace_id": workspace_id, "asset_id": asset_id,
                                                "event": event, "data": data}, separators=(",", ":")))
        else:
            _append(workspace_id, asset_id, event, data)
    except Exception:
        log.warning("publishing %s failed", event, exc_info=True)


def start_subscriber(url: str) -> None:
    """Copy frames published by other processes into this process's buffer (idempotent)."""
    global _subscriber
    with _lock:
        if _subscriber is not None and _subscriber.is_alive():
            return

        def run() -> None:
            import redis

            while True:
                try:
                    pubsub = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
                    pubsub.subscribe(CHANNEL)
                    for msg in pubsub.listen():
                        try:
                            body = json.loads(msg["data"])
                            _append(body["workspace_id"], body.get("asset_id"), body["event"], body["data"])
                        except (ValueError, KeyError, TypeError):
                            log.warning("ignoring a malformed ephemeral frame")
                except Exception:
                    log.warning("ephemeral subscription lost; retrying", exc_info=True)
                    threading.Event().wait(1.0)

        _subscriber = threading.Thread(target=run, name="s4e-ephemeral-sub", daemon=True)
        _subscriber.start()


def last_seq() -> int:
    return _seq


def since_has(seq: int) -> bool:
    """Cheap check before taking a thread for `since`."""
    return _seq > seq


def since(seq: int, workspace_id: str) -> tuple[list[Frame], int]:
    """Frames of `workspace_id` after `seq`, and the newest sequence number."""
    with _lock:
        return [f for f in _frames if f.seq > seq and f.workspace_id == workspace_id], _seq
