"""Cron in a time zone with DST, skip windows and the schedule preview (scanning.md 3)."""

from __future__ import annotations

from datetime import timedelta
from itertools import islice

import pytest
from s4e_platform.scan_profile import cron, plan
from s4e_platform.scan_profile.models import ScanProfile

from tests.scan_profile.conftest import API, make_profile, utc

BERLIN = cron.zone("Europe/Berlin")


def take(expr, tz, after, n):
    return list(islice(cron.fires(expr, tz, after), n))


@pytest.mark.parametrize("expr", ["0 2 * *", "0 2 * * * *", "@daily", "61 * * * *", "0 2 * * 5#3", "0 0 30 2 *",
                                  "0 0 31 4 *", "H 2 * * *", ""])
def test_invalid_cron(expr):
    with pytest.raises(cron.InvalidSchedule):
        cron.check_cron(expr)


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "/usr/share/zoneinfo/UTC", "", "x" * 80])
def test_invalid_zone(name):
    with pytest.raises(cron.InvalidSchedule):
        cron.zone(name)


def test_cron_is_evaluated_in_the_zone():
    got = take("0 2 * * 1", cron.zone("Europe/Istanbul"), utc(2026, 11, 30), 2)
    assert got == [utc(2026, 12, 6, 23), utc(2026, 12, 13, 23)]  # Monday 02:00 at UTC+3


def test_dst_gap_time_is_skipped():
    # 2026-03-29: Berlin clocks jump 02:00 -> 03:00, so 02:30 does not exist that day.
    got = take("30 2 * * *", BERLIN, utc(2026, 3, 27, 12), 3)
    assert got == [utc(2026, 3, 28, 1, 30), utc(2026, 3, 30, 0, 30), utc(2026, 3, 31, 0, 30)]


def test_dst_overlap_time_fires_once_at_its_first_occurrence():
    # 2026-10-25: Berlin clocks go 03:00 -> 02:00, so 02:30 happens at 00:30 UTC and again at 01:30 UTC.
    got = take("30 2 * * *", BERLIN, utc(2026, 10, 24, 12), 2)
    assert got == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]
    # Every 30 minutes through the night: the repeated hour's second pass adds nothing.
    got = take("*/30 * * * *", BERLIN, utc(2026, 10, 24, 23, 45), 5)
    assert got == [utc(2026, 10, 25, 0), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2),
                   utc(2026, 10, 25, 2, 30), utc(2026, 10, 25, 3)]
    # Asked from inside the second pass, the already-fired first occurrence is not fired again.
    assert take("30 2 * * *", BERLIN, utc(2026, 10, 25, 1, 10), 1) == [utc(2026, 10, 26, 1, 30)]


def test_windows_are_half_open_and_chain():
    w1 = cron.Window("0 8 * * *", timedelta(hours=2), cron.zone("UTC"))
    w2 = cron.Window("0 10 * * *", timedelta(minutes=30), cron.zone("UTC"), source="workspace")
    assert w1.end_if_inside(utc(2026, 12, 1, 7, 59)) is None
    assert w1.end_if_inside(utc(2026, 12, 1, 8)) == utc(2026, 12, 1, 10)
    assert w1.end_if_inside(utc(2026, 12, 1, 10)) is None
    assert cron.clear_after([w1, w2], utc(2026, 12, 1, 9)) == utc(2026, 12, 1, 10, 30)
    ended = cron.Window("0 8 * * *", timedelta(hours=2), cron.zone("UTC"), until=utc(2026, 12, 1, 12))
    assert ended.end_if_inside(utc(2026, 12, 2, 9)) is None


def _profile(schedule: dict) -> ScanProfile:
    return ScanProfile(id="prf_x", workspace_id="wsp_x", name="p", enabled=True, scope={}, scan_type="dns",
                       scanners=[], options={}, schedule=schedule, post_scan_actions=[])


def test_preview_flags_skipped_and_defers_once():
    hourly = {"cron": "0 * * * *", "timezone": "UTC",
              "skip_windows": [{"cron": "30 8 * * *", "duration_minutes": 150}], "on_skip": "skip"}
    got = plan.preview(_profile(hourly), {}, count=5, now=utc(2026, 12, 1, 7, 30))
    assert [(e["at_utc"].hour, e["skipped"]) for e in got] == [(8, False), (9, True), (10, True), (11, False),
                                                              (12, False)]
    deferred = plan.preview(_profile({**hourly, "on_skip": "defer"}), {}, count=4, now=utc(2026, 12, 1, 7, 30))
    # 09:00 and 10:00 are both deferred to the window's end, 11:00 (also a cron time): one start.
    assert [(e["at_utc"], e["deferred"]) for e in deferred] == [
        (utc(2026, 12, 1, 8), False), (utc(2026, 12, 1, 11), True), (utc(2026, 12, 1, 12), False),
        (utc(2026, 12, 1, 13), False)]
    window_end = plan.preview(_profile({**hourly, "on_skip": "defer",
                                        "skip_windows": [{"cron": "30 8 * * *", "duration_minutes": 140}]}),
                              {}, count=3, now=utc(2026, 12, 1, 7, 30))
    assert [(e["at_utc"], e["deferred"], e["scheduled_at_utc"]) for e in window_end] == [
        (utc(2026, 12, 1, 8), False, utc(2026, 12, 1, 8)),
        (utc(2026, 12, 1, 10, 50), True, utc(2026, 12, 1, 9)),
        (utc(2026, 12, 1, 11), False, utc(2026, 12, 1, 11))]


def test_preview_honours_until_and_workspace_windows():
    sched = {"cron": "0 12 * * *", "timezone": "Europe/Berlin", "until": "2026-12-03T10:00:00.000Z"}
    settings = {"scan_skip_windows": [
        {"cron": "0 11 2 12 *", "duration_minutes": 120, "scope": "all", "timezone": "UTC"},
        {"cron": "0 0 * * *", "duration_minutes": 1440, "scope": "ast_01hv8x5m3t9q4zc2n7k1r6pbde"}]}
    got = plan.preview(_profile(sched), settings, count=10, now=utc(2026, 12, 1))
    assert [(e["at_utc"], e["skipped"]) for e in got] == [(utc(2026, 12, 1, 11), False),
                                                         (utc(2026, 12, 2, 11), True)]
    assert got[0]["at_local"] == "2026-12-01T12:00:00.000+01:00"
    assert got[1]["window"]["source"] == "workspace"


def test_preview_endpoint(client, tenant, domain):
    p = make_profile(client, tenant, scope={"asset_ids": [domain["id"]]},
                     schedule={"cron": "0 12 * * *", "timezone": "Asia/Tokyo",
                               "skip_windows": [{"cron": "0 12 * * 6,0", "duration_minutes": 30}]})
    r = client.get(f"{API}/scan-profiles/{p['id']}/schedule-preview", params={"count": 14},
                   headers=tenant.headers("viewer"))
    assert r.status_code == 200, r.text
    body = r.json()["data"]
    assert len(body["entries"]) == 14 and (body["enabled"], body["timezone"], body["on_skip"]) == (
        True, "Asia/Tokyo", "skip")
    for entry in body["entries"]:
        assert entry["at_utc"].endswith("T03:00:00.000Z") and entry["at_local"].endswith("T12:00:00.000+09:00")
    # Weekends (local) are inside the window: 4 of any 14 consecutive days.
    assert sum(e["skipped"] for e in body["entries"]) == 4
    assert client.get(f"{API}/scan-profiles/{p['id']}/schedule-preview", params={"count": 101},
                      headers=tenant.headers()).status_code == 400
    assert client.get(f"{API}/scan-profiles/{p['id']}/schedule-preview", params={"counts": 1},
                      headers=tenant.headers()).status_code == 400


def test_workspace_skip_windows_setting_is_validated(client, tenant):
    url = f"{API}/workspaces/{tenant.workspace_id}"
    good = [{"cron": "0 8 * * 1-5", "duration_minutes": 600, "scope": "all", "until": "2027-01-01T00:00:00Z"}]
    r = client.patch(url, json={"settings": {"scan_skip_windows": good}}, headers=tenant.headers())
    assert r.status_code == 200, r.text
    stored = r.json()["data"]["settings"]["scan_skip_windows"]
    assert stored[0]["cron"] == "0 8 * * 1-5" and stored[0]["scope"] == "all"
    for bad, path in [({"cron": "nope", "duration_minutes": 5}, "$.settings.scan_skip_windows[0].cron"),
                      ({"cron": "0 8 * * *", "duration_minutes": 0},
                       "$.settings.scan_skip_windows[0].duration_minutes"),
                      ({"cron": "0 8 * * *", "duration_minutes": 5, "scope": "some"},
                       "$.settings.scan_skip_windows[0].scope")]:
        r = client.patch(url, json={"settings": {"scan_skip_windows": [bad]}}, headers=tenant.headers())
        assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == path, r.text
    r = client.get(url, headers=tenant.headers())
    assert r.json()["data"]["settings"]["scan_skip_windows"] == stored
