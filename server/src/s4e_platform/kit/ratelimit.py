"""Token buckets (api.md 1.9): capacity = rate + burst, refilled continuously at rate per minute.

In-process buckets in embedded mode; a Redis Lua script in scale-out mode so every API replica shares them.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

TIERS = {"standard": (100, 20), "premium": (1000, 100), "enterprise": (10000, 500)}


def now() -> float:
    """Unix seconds: the one clock every bucket reads (Redis buckets too, so replicas agree on refills)."""
    return time.time()


@dataclass
class Decision:
    allowed: bool
    limit: int  # per-minute rate
    remaining: int
    reset_at: int  # unix seconds when the bucket is full again
    retry_after: int  # seconds until one token is available (0 when allowed)

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(self.reset_at)}


def _decision(allowed: bool, tokens: float, capacity: int, rate_per_s: float, at: float,
              per_minute: int) -> Decision:
    """Headers for a bucket holding `tokens` after this request: full again after (capacity - tokens) / rate."""
    full_at = math.ceil(at + (capacity - tokens) / rate_per_s)
    retry = 0 if allowed else max(1, math.ceil((1.0 - tokens) / rate_per_s))
    return Decision(allowed, per_minute, max(0, int(tokens)), full_at, retry)


class MemoryLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def hit(self, key: str, per_minute: int, burst: int) -> Decision:
        capacity = per_minute + burst
        rate = per_minute / 60.0
        current = now()
        with self._lock:
            tokens, ts = self._buckets.get(key, (float(capacity), current))
            tokens = min(capacity, tokens + max(0.0, current - ts) * rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            # Never move a bucket's clock backwards, or the same interval would be refilled twice.
            self._buckets[key] = (tokens, max(ts, current))
            if len(self._buckets) > 100_000:  # forget idle buckets (they would be full anyway)
                cutoff = current - 3600
                self._buckets = {k: v for k, v in self._buckets.items() if v[1] > cutoff}
        return _decision(allowed, tokens, capacity, rate, current, per_minute)


# Replicas pass their own clock; a bucket's timestamp only moves forward, so a replica running behind
# can neither refill an interval twice nor drain tokens it never spent.
_LUA = """
local key = KEYS[1]
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', key, 't', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = capacity; ts = now end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', key, 't', tostring(tokens), 'ts', tostring(math.max(ts, now)))
redis.call('EXPIRE', key, math.ceil(capacity / rate) + 60)
return {allowed, tostring(tokens)}
"""


class RedisLimiter:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._script = self._redis.register_script(_LUA)

    def hit(self, key: str, per_minute: int, burst: int) -> Decision:
        capacity = per_minute + burst
        rate = per_minute / 60.0
        current = now()
        allowed, tokens = self._script(keys=[f"s4e:rl:{key}"], args=[capacity, rate, current])
        return _decision(bool(allowed), float(tokens), capacity, rate, current, per_minute)


_limiter = None
_limiter_lock = threading.Lock()


def limiter():
    global _limiter
    with _limiter_lock:
        if _limiter is None:
            from s4e_platform.config import get_settings

            url = get_settings().redis_url
            _limiter = RedisLimiter(url) if url else MemoryLimiter()
        return _limiter


def reset_limiter() -> None:
    global _limiter
    _limiter = None
