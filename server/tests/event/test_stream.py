"""GET /events/stream against a real uvicorn server with a real HTTP client (events.md 3.2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import datetime

import pytest
from s4e_platform.event import publisher

from tests.event.helpers import END, expire, publish, publish_audit
from tests.fixtures.asset import create_asset


def _updated(asset_id: str | None = None, name: str = "x.example.com") -> tuple[str, dict, str | None]:
    asset = {"id": asset_id or "ast_01hv9c4k2m7q8r5t3w6x0y1z2d", "name": name, "type": "domain"}
    return "asset.updated", {"asset": asset, "changes": ["tags"]}, asset_id


def _ids(frames: list[dict]) -> list[str]:
    return [f["id"] for f in frames]


def test_frames_headers_and_envelope(client, tenant, sse):
    stream = sse(headers=tenant.headers("viewer"))
    assert stream.status_code == 200
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    assert stream.response.headers["cache-control"] == "no-cache"
    assert stream.response.headers["x-accel-buffering"] == "no"
    assert stream.next() == {"retry": "5000"}
    asset = create_asset(client, tenant, name="stream.example.com")
    publisher.drain()
    frame = stream.next_event()
    stored = client.get("/api/v1/events", headers=tenant.headers()).json()["data"][0]
    assert set(frame) == {"id", "event", "data"}
    assert frame["id"] == stored["id"] and frame["event"] == "asset.created"
    assert json.loads(frame["data"]) == stored and stored["data"]["asset"]["id"] == asset["id"]


def test_stream_starts_live_and_never_replays_without_an_id(tenant, sse):
    publish(tenant.workspace_id, _updated())
    stream = sse(headers=tenant.headers())
    assert stream.next() == {"retry": "5000"}
    [live] = publish(tenant.workspace_id, _updated())
    assert _ids([stream.next_event()]) == [live]


def test_filters_wildcards_and_asset(tenant, sse):
    a, b = "ast_01hv9c4k2m7q8r5t3w6x0y1z2a", "ast_01hv9c4k2m7q8r5t3w6x0y1z2b"
    by_type = sse(headers=tenant.headers(), params={"events": "audit.*,asset.updated"})
    by_asset = sse(headers=tenant.headers(), params={"asset_id": a})
    for stream in (by_type, by_asset):
        assert stream.next() == {"retry": "5000"}
    created_a, created_b, updated_a = publish(
        tenant.workspace_id, ("asset.created", {"asset": {"id": a}}, a), ("asset.created", {"asset": {"id": b}}, b),
        _updated(a))
    login = publish_audit(tenant.workspace_id, "audit.login_failed")
    last = publish_audit(tenant.workspace_id, "audit.settings_changed", target_type="asset", target_id=a,
                         asset_id=a)
    assert _ids(by_type.events_until(last)) == [updated_a, login, last]
    assert _ids(by_asset.events_until(last)) == [created_a, updated_a, last]
    by_type.assert_quiet(0.3)
    by_asset.assert_quiet(0.3)
    r = sse(headers=tenant.headers(), params={"events": "finding.n*"})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["path"] == "query.events"


def test_restricted_key_streams_only_its_assets(client, tenant, sse):
    a = create_asset(client, tenant, name="a.example.com", tags=["prod"])
    b = create_asset(client, tenant, name="b.example.com")
    key = tenant.key(["read:events"], asset_restriction={"asset_ids": [], "tags": ["prod"]})
    stream = sse(headers={"Authorization": f"Bearer {key}"})
    assert stream.next() == {"retry": "5000"}
    publisher.drain()  # the assets' events get their ids now, while the stream is open
    publish_audit(tenant.workspace_id, "audit.settings_changed", target_type="workspace")
    [last] = publish(tenant.workspace_id, _updated(a["id"], a["name"]))
    frames = stream.events_until(last)
    assert [(f["event"], json.loads(f["data"])["data"]["asset"]["id"]) for f in frames] == [
        ("asset.created", a["id"]), ("asset.updated", a["id"])]
    assert b["id"] not in "".join(f["data"] for f in frames)


def test_query_token_auth_and_scopes(tenant, other_tenant, sse):
    stream = sse(params={"token": tenant.key(["read:events"])})
    assert stream.status_code == 200 and stream.next() == {"retry": "5000"}
    publish(other_tenant.workspace_id, _updated())
    [mine] = publish(tenant.workspace_id, _updated())
    assert _ids([stream.next_event()]) == [mine]  # the other workspace's event never shows up
    for kwargs, status, code in (
            ({}, 401, "unauthenticated"),
            ({"params": {"token": "s4e_live_" + "x" * 40}}, 401, "invalid_token"),
            ({"params": {"token": tenant.key(["read:assets"])}}, 403, "insufficient_scope"),
            ({"headers": tenant.headers(), "params": {"cursor": "1"}}, 400, "unknown_parameter"),
            ({"headers": {**tenant.headers(), "Last-Event-ID": "nope"}}, 400, "invalid_parameter")):
        r = sse(**kwargs)
        assert r.status_code == status, kwargs
        assert r.response.headers["content-type"] == "application/json"
        assert r.json()["error"]["code"] == code


def test_resume_with_last_event_id_has_no_duplicates_and_no_gaps(tenant, sse):
    ws = tenant.workspace_id
    first = sse(headers=tenant.headers())
    assert first.next() == {"retry": "5000"}
    seen = publish(ws, _updated(), _updated())
    assert _ids(first.events_until(seen[-1])) == seen
    first.close()
    missed = publish(ws, _updated(), _updated(), _updated())  # while disconnected
    resumed = sse(headers={**tenant.headers(), "Last-Event-ID": seen[-1]})
    assert resumed.next() == {"retry": "5000"}
    assert _ids(resumed.events_until(missed[-1])) == missed
    [live] = publish(ws, _updated())
    assert _ids([resumed.next_event()]) == [live]
    resumed.assert_quiet(0.5)
    by_query = sse(headers=tenant.headers(), params={"last_event_id": seen[0]})
    assert by_query.next() == {"retry": "5000"}
    assert _ids(by_query.events_until(live)) == [seen[1], *missed, live]
    header_wins = sse(headers={**tenant.headers(), "Last-Event-ID": missed[-1]},
                      params={"last_event_id": seen[0]})
    assert header_wins.next() == {"retry": "5000"}
    assert _ids(header_wins.events_until(live)) == [live]


def test_expired_last_event_id_gets_a_gap_frame_then_the_oldest(tenant, sse):
    ids = publish(tenant.workspace_id, *[_updated() for _ in range(4)])
    expire(ids[:2])
    stream = sse(headers={**tenant.headers(), "Last-Event-ID": ids[0]})
    assert stream.next() == {"retry": "5000"}
    gap = stream.next()
    assert gap["event"] == "gap" and "id" not in gap
    assert json.loads(gap["data"]) == {"requested": ids[0], "oldest_available": ids[2]}
    assert _ids(stream.events_until(ids[3])) == ids[2:]
    fresh = sse(headers={**tenant.headers(), "Last-Event-ID": ids[2]})
    assert fresh.next() == {"retry": "5000"}
    assert _ids([fresh.next_event()]) == [ids[3]]  # a retained id: no gap frame


def test_heartbeats(tenant, sse, settings):
    settings.sse_heartbeat_seconds = 0.2
    stream = sse(headers=tenant.headers())
    assert stream.next() == {"retry": "5000"}
    started = time.monotonic()
    beats = [stream.next(timeout=2), stream.next(timeout=2)]
    assert time.monotonic() - started < 2
    for beat in beats:
        assert beat["event"] == "heartbeat" and "id" not in beat
        stamp = json.loads(beat["data"])["timestamp"]
        assert stamp.endswith("Z") and len(stamp) == 24 and datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_stream_closes_after_max_seconds(tenant, sse, settings):
    settings.sse_max_seconds = 0.5
    stream = sse(headers=tenant.headers())
    assert stream.next() == {"retry": "5000"}
    assert stream.next_event(timeout=5) is END


def _open_until_ok(sse, headers: dict, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        stream = sse(headers=headers)
        if stream.status_code == 200 or time.monotonic() > deadline:
            return stream
        stream.close()
        time.sleep(0.1)


def test_sixth_concurrent_stream_is_429_until_one_closes(tenant, sse):
    headers = {"Authorization": f"Bearer {tenant.key(['read:events'])}"}
    streams = [sse(headers=headers) for _ in range(5)]
    assert [s.status_code for s in streams] == [200] * 5
    sixth = sse(headers=headers)
    assert sixth.status_code == 429
    assert sixth.json()["error"]["code"] == "rate_limited" and sixth.response.headers["retry-after"] == "5"
    assert sse(headers=tenant.headers()).status_code == 200  # another credential has its own five
    streams[0].close()
    again = _open_until_ok(sse, headers)
    assert again.status_code == 200 and again.next() == {"retry": "5000"}


def test_redis_fanout_wakes_streams_of_other_processes(tenant, sse, settings):
    url = os.environ.get("S4E_REDIS_URL")
    if not url:
        pytest.skip("needs Redis (S4E_TEST_REDIS_URL)")
    import redis
    from s4e_platform.event import hub

    settings.sse_heartbeat_seconds = 30.0  # no timed re-read can explain a delivery within the test
    stream = sse(headers=tenant.headers())
    assert stream.next() == {"retry": "5000"}
    # Another process writes and publishes events; its publish never touches this process's condition.
    env = {k: v for k, v in os.environ.items() if k != "S4E_REDIS_URL"}
    code = textwrap.dedent(f"""
        from s4e_platform.db.session import unit_of_work
        from s4e_platform.event import publisher, service
        with unit_of_work() as s:
            service.record(s, workspace_id={tenant.workspace_id!r}, event="scan.completed",
                           data={{"scan_id": "scn_1"}}, actor={{"type": "system", "id": None, "name": "scheduler"}})
        assert publisher.drain() == 1
    """)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    stream.assert_quiet(1.0)  # stored, but nothing woke this process yet
    started = time.monotonic()
    redis.Redis.from_url(url).publish(hub.CHANNEL, "evt")
    frame = stream.next_event(timeout=5)
    assert frame["event"] == "scan.completed" and time.monotonic() - started < 5
