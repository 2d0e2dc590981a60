"""Token-bucket rate limits per principal (api.md 1.9): capacity = rate + burst, continuous refill.

The buckets' clock is frozen so "quick" means exactly zero refill, whatever the machine's speed.
"""

from __future__ import annotations

import math
import os

import pytest
from s4e_platform.kit import ratelimit

from tests.fixtures.objects import console_session

META = "/api/v1/meta"
T0 = 1_900_000_000.0


@pytest.fixture
def clock(monkeypatch, settings):
    """Rate limiting on, buckets reading a clock the test moves by hand."""
    settings.rate_limit_enabled = True
    now = {"t": T0}
    monkeypatch.setattr(ratelimit, "now", lambda: now["t"])
    return now


def limit_headers(response) -> tuple[int, int, int]:
    h = response.headers
    return int(h["x-ratelimit-limit"]), int(h["x-ratelimit-remaining"]), int(h["x-ratelimit-reset"])


def drain(client, headers: dict, count: int) -> list:
    return [client.get(META, headers=headers) for _ in range(count)]


def assert_limited(response, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["details"] == {"retry_after": retry_after}
    assert response.headers["retry-after"] == str(retry_after)
    assert error["request_id"] == response.headers["x-request-id"]


def test_standard_key_gets_120_quick_requests_then_429(client, tenant, clock):
    responses = drain(client, tenant.headers(), 120)
    assert all(r.status_code == 200 for r in responses), {r.status_code for r in responses}
    first, last = limit_headers(responses[0]), limit_headers(responses[-1])
    assert first[:2] == (100, 119) and last[:2] == (100, 0)
    # Reset = when the bucket is full again: 120 spent tokens at 100/min = 72 s.
    assert last[2] == math.ceil(T0 + 120 * 60 / 100)
    limited = client.get(META, headers=tenant.headers())
    assert_limited(limited, retry_after=1)  # one token takes 0.6 s
    assert limit_headers(limited)[1] == 0
    clock["t"] += 0.61
    assert client.get(META, headers=tenant.headers()).status_code == 200


def test_every_authenticated_response_carries_the_headers(client, tenant, clock):
    h = tenant.headers()
    for response in (client.get(META, headers=h), client.get("/api/v1/assets/ast_01hv8x5m3t9q4zc2n7k1r6pbde",
                                                              headers=h),
                     client.post("/api/v1/assets", json={"name": 1}, headers=h)):
        assert response.status_code in (200, 404, 422)
        assert limit_headers(response)[0] == 100
    remaining = [limit_headers(client.get(META, headers=h))[1] for _ in range(3)]
    assert remaining == [116, 115, 114]  # the three error responses spent tokens too


def test_buckets_are_per_principal(client, tenant, other_tenant, clock):
    drain(client, tenant.headers(), 120)
    assert_limited(client.get(META, headers=tenant.headers()), retry_after=1)
    # Another key of the same user, and a key of another workspace, have their own buckets.
    sibling = {"Authorization": f"Bearer {tenant.key(['read:assets'])}"}
    assert limit_headers(client.get(META, headers=sibling))[:2] == (100, 119)
    assert client.get(META, headers=other_tenant.headers()).status_code == 200


def test_tiers(client, tenant, clock):
    session = console_session(tenant.users["viewer"])
    assert limit_headers(client.get(META, headers=session))[:2] == (1000, 1099)
    enterprise = {"Authorization": f"Bearer {tenant.key(['read:assets'], tier='enterprise')}"}
    assert limit_headers(client.get(META, headers=enterprise))[:2] == (10000, 10499)


def test_refill_is_continuous_and_capped(client, tenant, clock):
    h = tenant.headers()
    drain(client, h, 120)
    clock["t"] += 30  # 50 tokens at 100/min
    assert limit_headers(client.get(META, headers=h))[1] == 49
    clock["t"] += 3600  # never more than capacity
    assert limit_headers(client.get(META, headers=h))[1] == 119


def test_anonymous_requests_have_no_bucket_headers(client, clock):
    r = client.get(META)
    assert r.status_code == 401 and "x-ratelimit-limit" not in r.headers


redis_only = pytest.mark.skipif(not os.environ.get("S4E_TEST_REDIS_URL"), reason="needs S4E_TEST_REDIS_URL")


@redis_only
@pytest.mark.redis
def test_redis_buckets_are_shared_between_limiters(clock):
    url = os.environ["S4E_TEST_REDIS_URL"]
    one, two = ratelimit.RedisLimiter(url), ratelimit.RedisLimiter(url)
    key = f"test:{T0}:{os.getpid()}"
    decisions = [(one if i % 2 else two).hit(key, 100, 20) for i in range(120)]
    assert all(d.allowed for d in decisions) and decisions[-1].remaining == 0
    denied = two.hit(key, 100, 20)
    assert not denied.allowed and denied.retry_after == 1
    clock["t"] += 0.61
    assert one.hit(key, 100, 20).allowed


@redis_only
@pytest.mark.redis
def test_redis_bucket_spans_app_instances(client, tenant, clock):
    """Two API replicas (separate apps, separate Redis connections) drain one bucket."""
    from fastapi.testclient import TestClient
    from s4e_platform.main import create_app

    assert isinstance(ratelimit.limiter(), ratelimit.RedisLimiter)
    drain(client, tenant.headers(), 60)
    ratelimit.reset_limiter()  # the second replica builds its own limiter
    with TestClient(create_app()) as replica:
        responses = drain(replica, tenant.headers(), 60)
        assert responses[-1].status_code == 200 and limit_headers(responses[-1])[1] == 0
        assert_limited(replica.get(META, headers=tenant.headers()), retry_after=1)
    ratelimit.reset_limiter()
    assert_limited(client.get(META, headers=tenant.headers()), retry_after=1)
