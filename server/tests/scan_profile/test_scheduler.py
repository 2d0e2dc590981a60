"""The profile scheduler: fire keys, skip windows, grace, no double fire, leader lease (scanning.md 3)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from s4e_platform.db.session import unit_of_work
from s4e_platform.kit.clock import utcnow
from s4e_platform.runtime.models import LeaderLease
from s4e_platform.scan_profile import scheduler

from tests.scan_profile.conftest import API, fires, load_profile, make_asset, make_profile, scans_of, set_profile, utc

T = utc(2026, 12, 1, 10)  # a Tuesday; the hourly cron below matches it


@pytest.fixture
def hourly(client, tenant, domain) -> dict:
    p = make_profile(client, tenant, scope={"asset_ids": [domain["id"]]}, schedule={"cron": "0 * * * *"})
    set_profile(p["id"], next_run_at=T)
    return p


def outcomes(profile_id: str) -> list[tuple]:
    return [(f.scheduled_at, f.outcome) for f in fires(profile_id)]


def test_due_profile_fires_once_and_moves_on(hourly):
    assert scheduler.tick(T - timedelta(seconds=1)) == {"due": 0}
    counts = scheduler.tick(T + timedelta(seconds=3))
    assert counts == {"due": 1, "fired": 1}
    [fire] = fires(hourly["id"])
    assert (fire.scheduled_at, fire.outcome) == (T, "fired")
    [scan] = scans_of(hourly["id"])
    assert fire.scan_ids == [scan.id] and scan.triggered_by == {"type": "schedule", "id": hourly["id"]}
    assert scan.created_by is None
    profile = load_profile(hourly["id"])
    assert profile.next_run_at == T + timedelta(hours=1) and profile.last_run_at == T + timedelta(seconds=3)
    # The same moment again (a second tick, or a restart with the same clock) finds nothing due.
    assert scheduler.tick(T + timedelta(seconds=3)) == {"due": 0}
    assert len(scans_of(hourly["id"])) == 1


def test_a_recorded_fire_key_is_never_fired_again(hourly):
    scheduler.tick(T + timedelta(seconds=3))
    # Simulate a scheduler that still believes T is due (stale state, restarted from an old snapshot).
    set_profile(hourly["id"], next_run_at=T)
    assert scheduler.tick(T + timedelta(seconds=4)) == {"due": 1, "duplicate": 1}
    assert len(scans_of(hourly["id"])) == 1 and outcomes(hourly["id"]) == [(T, "fired")]
    # ... and it is moved past the recorded time instead of being retried on every tick.
    assert load_profile(hourly["id"]).next_run_at == T + timedelta(hours=1)


def test_concurrent_ticks_fire_once(hourly):
    barrier = threading.Barrier(3)
    results: list[dict] = []

    def run():
        barrier.wait()
        results.append(scheduler.tick(T + timedelta(seconds=2)))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 3
    assert sum(r.get("fired", 0) for r in results) == 1
    assert len(scans_of(hourly["id"])) == 1 and outcomes(hourly["id"]) == [(T, "fired")]


def test_profile_skip_window_skips(client, tenant, hourly):
    client.patch(f"{API}/scan-profiles/{hourly['id']}", headers=tenant.headers(), json={"schedule": {
        "cron": "0 * * * *", "skip_windows": [{"cron": "30 9 * * *", "duration_minutes": 60}]}})
    set_profile(hourly["id"], next_run_at=T)
    assert scheduler.tick(T + timedelta(seconds=1)) == {"due": 1, "fired": 1}
    [fire] = fires(hourly["id"])
    assert fire.outcome == "skipped" and fire.detail["window"]["source"] == "profile"
    assert scans_of(hourly["id"]) == []
    assert load_profile(hourly["id"]).next_run_at == T + timedelta(hours=1)


def test_defer_starts_once_when_the_window_ends(client, tenant, hourly):
    client.patch(f"{API}/scan-profiles/{hourly['id']}", headers=tenant.headers(), json={"schedule": {
        "cron": "*/20 * * * *", "on_skip": "defer", "skip_windows": [{"cron": "50 9 * * *", "duration_minutes": 55}]}})
    set_profile(hourly["id"], next_run_at=T)
    end = T + timedelta(minutes=45)
    scheduler.tick(T + timedelta(seconds=1))
    assert outcomes(hourly["id"]) == [(T, "deferred")]
    assert load_profile(hourly["id"]).next_run_at == T + timedelta(minutes=20)
    scheduler.tick(T + timedelta(minutes=20, seconds=1))
    scheduler.tick(T + timedelta(minutes=40, seconds=1))
    assert load_profile(hourly["id"]).next_run_at == end
    assert scans_of(hourly["id"]) == []
    scheduler.tick(end + timedelta(seconds=1))
    assert outcomes(hourly["id"]) == [(T, "deferred"), (T + timedelta(minutes=20), "deferred"),
                                      (T + timedelta(minutes=40), "deferred"), (end, "fired")]
    assert len(scans_of(hourly["id"])) == 1
    assert load_profile(hourly["id"]).next_run_at == T + timedelta(hours=1)


def test_workspace_windows_gate_all_or_one_asset(client, tenant, domain):
    other = make_asset(client, tenant, "example.net")
    p = make_profile(client, tenant, scope={"asset_ids": [domain["id"], other["id"]]},
                     schedule={"cron": "0 * * * *"})
    url = f"{API}/workspaces/{tenant.workspace_id}"
    windows = [{"cron": "0 10 * * *", "duration_minutes": 30, "scope": domain["id"]},
               {"cron": "0 12 * * *", "duration_minutes": 30, "scope": "all"}]
    assert client.patch(url, json={"settings": {"scan_skip_windows": windows}},
                        headers=tenant.headers()).status_code == 200
    set_profile(p["id"], next_run_at=T)
    scheduler.tick(T + timedelta(seconds=1))
    [fire] = fires(p["id"])
    assert fire.outcome == "fired" and [s.asset_id for s in scans_of(p["id"])] == [other["id"]]
    assert fire.detail["skipped"][0]["asset_id"] == domain["id"]
    assert fire.detail["skipped"][0]["reason"] == "skip_window"
    set_profile(p["id"], next_run_at=T + timedelta(hours=2))
    scheduler.tick(T + timedelta(hours=2, seconds=1))
    assert outcomes(p["id"])[-1] == (T + timedelta(hours=2), "skipped")
    # A manual run ignores windows: it is an explicit request.
    r = client.post(f"{API}/scan-profiles/{p['id']}/run", headers=tenant.headers())
    assert [s["asset_id"] for s in r.json()["data"]] == [domain["id"]]  # the other one is still queued


def test_downtime_within_grace_fires_once(hourly):
    scheduler.tick(T + timedelta(minutes=50))
    assert outcomes(hourly["id"]) == [(T, "fired")]
    assert load_profile(hourly["id"]).next_run_at == T + timedelta(hours=1)


def test_downtime_beyond_grace_records_one_miss_and_fires_the_latest(hourly):
    now = T + timedelta(hours=5, minutes=10)
    assert scheduler.tick(now) == {"due": 1, "fired": 1}
    assert outcomes(hourly["id"]) == [(T, "missed"), (T + timedelta(hours=5), "fired")]
    assert len(scans_of(hourly["id"])) == 1
    assert load_profile(hourly["id"]).next_run_at == T + timedelta(hours=6)


def test_downtime_with_nothing_inside_the_grace_only_records_the_miss(client, tenant, domain):
    p = make_profile(client, tenant, scope={"asset_ids": [domain["id"]]}, schedule={"cron": "0 10 * * *"})
    set_profile(p["id"], next_run_at=T)
    assert scheduler.tick(T + timedelta(hours=3)) == {"due": 1, "missed": 1}
    assert outcomes(p["id"]) == [(T, "missed")] and scans_of(p["id"]) == []
    assert load_profile(p["id"]).next_run_at == T + timedelta(days=1)


def test_until_ends_the_schedule(client, tenant, domain):
    p = make_profile(client, tenant, scope={"asset_ids": [domain["id"]]},
                     schedule={"cron": "0 * * * *", "until": "2026-12-01T11:30:00Z"})
    set_profile(p["id"], next_run_at=T + timedelta(hours=1))
    scheduler.tick(T + timedelta(hours=1, seconds=1))
    assert outcomes(p["id"]) == [(T + timedelta(hours=1), "fired")]
    assert load_profile(p["id"]).next_run_at is None


def test_disabled_and_empty_profiles(client, tenant, hourly):
    set_profile(hourly["id"], enabled=False)
    assert scheduler.tick(T + timedelta(seconds=1)) == {"due": 0}
    empty = make_profile(client, tenant, "empty", scope={"tags": ["nothing"]}, schedule={"cron": "0 * * * *"})
    set_profile(empty["id"], next_run_at=T)
    scheduler.tick(T + timedelta(seconds=1))
    assert outcomes(empty["id"]) == [(T, "empty")]


def test_only_the_lease_holder_fires(client, tenant, hourly, domain):
    assert scheduler.run_once(T + timedelta(seconds=1), holder="a")["profiles"] == {"due": 1, "fired": 1}
    second = make_profile(client, tenant, "second", scope={"asset_ids": [domain["id"]]},
                          schedule={"cron": "0 * * * *"})
    set_profile(second["id"], next_run_at=T)
    assert scheduler.run_once(T + timedelta(seconds=2), holder="b") is None
    assert fires(second["id"]) == []
    with unit_of_work() as s:  # a's lease lapses (its process died)
        s.get(LeaderLease, "scheduler").expires_at = utcnow() - timedelta(seconds=1)
    assert scheduler.run_once(T + timedelta(seconds=3), holder="b")["profiles"] == {"due": 1, "fired": 1}


def test_two_scheduler_loops_one_ticks(monkeypatch):
    ticks: list[str] = []
    real_tick = scheduler.tick
    monkeypatch.setattr(scheduler, "tick", lambda now=None: ticks.append(threading.current_thread().name)
                        or real_tick(now))
    stop = threading.Event()
    loops = [threading.Thread(target=scheduler.run_forever, args=(stop, 0.02), kwargs={"holder": h}, name=h)
             for h in ("one", "two")]
    for t in loops:
        t.start()
    stop.wait(0.6)
    stop.set()
    for t in loops:
        t.join(10)
    assert len(ticks) >= 3 and len(set(ticks)) == 1


def test_the_background_loop_fires_a_due_profile(client, tenant, domain):
    p = make_profile(client, tenant, scope={"asset_ids": [domain["id"]]}, schedule={"cron": "0 0 1 1 *"})
    due = utcnow() - timedelta(seconds=1)
    set_profile(p["id"], next_run_at=due)
    stop = threading.Event()
    loop = threading.Thread(target=scheduler.run_forever, args=(stop, 0.05), daemon=True)
    loop.start()
    try:
        for _ in range(100):
            if fires(p["id"]):
                break
            stop.wait(0.05)
    finally:
        stop.set()
        loop.join(10)
    assert outcomes(p["id"]) == [(due, "fired")] and len(scans_of(p["id"])) == 1
