"""In-process and Redis notifications around the outbox.

- `outbox_committed()`: a transaction wrote events; wakes the local publisher at once (embedded mode).
- `published(last_id)`: the publisher assigned ids; wakes SSE streams and delivery workers. In scale-out
  mode the signal also goes through Redis pub/sub so streams on other API replicas wake up.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("s4e.events")

outbox_signal = threading.Event()
_published = threading.Condition()
_generation = 0
_redis = None
_listeners: list = []
CHANNEL = "s4e:events:published"


def outbox_committed() -> None:
    outbox_signal.set()


def add_listener(fn) -> None:
    """Called (in the publisher's thread) after every published batch; e.g. to wake delivery workers."""
    _listeners.append(fn)


def _bump() -> None:
    global _generation
    with _published:
        _generation += 1
        _published.notify_all()


def notify_streams() -> None:
    """Wake this process's SSE streams without a stored event (ephemeral frames such as scan.progress)."""
    _bump()


def published(last_id: str | None) -> None:
    _bump()
    for fn in list(_listeners):
        try:
            fn()
        except Exception:
            log.exception("publish listener failed")
    if _redis is not None:
        try:
            _redis.publish(CHANNEL, last_id or "")
        except Exception:
            log.warning("redis publish failed", exc_info=True)


def generation() -> int:
    return _generation


def wait_for_publish(since_generation: int, timeout: float) -> int:
    """Block until a publish after `since_generation` or timeout; returns the current generation."""
    with _published:
        if _generation == since_generation:
            _published.wait(timeout)
        return _generation


_bridge_lock = threading.Lock()


def start_redis_bridge(url: str) -> None:
    """Scale-out: relay publishes from other processes (via Redis) into the local condition.

    Idempotent: the CLI starts it for `s4e server api`, and the SSE endpoint starts it lazily when the app
    runs under another server, so one process never runs two bridges."""
    global _redis
    import redis

    with _bridge_lock:
        if _redis is not None:
            return
        _redis = redis.Redis.from_url(url)

    def run() -> None:
        while True:
            try:
                pubsub = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                for _msg in pubsub.listen():
                    _bump()
            except Exception:
                log.warning("redis subscription lost; retrying", exc_info=True)
                threading.Event().wait(1.0)

    threading.Thread(target=run, name="s4e-redis-bridge", daemon=True).start()
