"""scan.progress over SSE (events.md 3.2): never stored, no `id:`, throttled per scan, filtered like any event."""

from __future__ import annotations

import json
import time

from s4e_platform.db.session import unit_of_work
from s4e_platform.event import ephemeral
from s4e_platform.event.models import Event
from sqlalchemy import func, select

from tests.fixtures.asset import create_asset


def _progress(workspace_id: str, asset_id: str, scan_id: str, value: int) -> None:
    ephemeral.publish(workspace_id=workspace_id, asset_id=asset_id, event="scan.progress",
                      data={"scan_id": scan_id, "progress": value, "phase": "port_scanning"})


def _first_progress(stream, publish, timeout: float = 8.0) -> dict:
    """Publish until a frame arrives (a Redis subscriber may still be subscribing when the stream opens)."""
    deadline = time.monotonic() + timeout
    value = 1
    while time.monotonic() < deadline:
        publish(value)
        try:
            frame = stream.next_event(timeout=0.5)
        except AssertionError:
            value += 1
            continue
        return frame
    raise AssertionError("no scan.progress frame")


def test_progress_frames_have_no_id_are_throttled_and_filtered(client, tenant, sse):
    asset = create_asset(client, tenant, name="progress.example.com")
    other = create_asset(client, tenant, name="other.example.com")
    progress = sse(headers=tenant.headers("viewer"), params={"events": "scan.*"})
    assets_only = sse(headers=tenant.headers(), params={"events": "asset.*"})
    other_asset = sse(headers=tenant.headers(), params={"asset_id": other["id"]})
    for stream in (progress, assets_only, other_asset):
        assert stream.next() == {"retry": "5000"}

    frame = _first_progress(progress, lambda v: _progress(tenant.workspace_id, asset["id"], "scn_a", v))
    assert set(frame) == {"event", "data"} and frame["event"] == "scan.progress"  # no id: Last-Event-ID unmoved
    data = json.loads(frame["data"])
    assert data["scan_id"] == "scn_a" and data["phase"] == "port_scanning" and isinstance(data["progress"], int)
    # Within 2 s of the last frame of the same scan nothing more is sent; another scan is not held back.
    _progress(tenant.workspace_id, asset["id"], "scn_a", 50)
    _progress(tenant.workspace_id, asset["id"], "scn_b", 10)
    assert json.loads(progress.next_event(timeout=3)["data"])["scan_id"] == "scn_b"
    progress.assert_quiet(0.5)
    time.sleep(1.6)
    _progress(tenant.workspace_id, asset["id"], "scn_a", 60)
    assert json.loads(progress.next_event(timeout=3)["data"])["progress"] == 60

    assets_only.assert_quiet(0.3)  # event filter
    other_asset.assert_quiet(0.3)  # asset filter
    with unit_of_work(readonly=True) as s:  # never stored
        assert s.execute(select(func.count()).select_from(Event).where(Event.event == "scan.progress")).scalar() == 0


def test_restricted_key_and_other_workspace_see_no_progress_of_other_assets(client, tenant, other_tenant, sse):
    tagged = create_asset(client, tenant, name="tagged.example.com", tags=["prod"])
    plain = create_asset(client, tenant, name="plain.example.com")
    key = tenant.key(["read:events"], asset_restriction={"asset_ids": [], "tags": ["prod"]})
    restricted = sse(headers={"Authorization": f"Bearer {key}"})
    foreign = sse(headers=other_tenant.headers())
    for stream in (restricted, foreign):
        assert stream.next() == {"retry": "5000"}
    frame = _first_progress(restricted, lambda v: (
        _progress(tenant.workspace_id, plain["id"], "scn_plain", v),
        _progress(tenant.workspace_id, tagged["id"], "scn_tagged", v)))
    assert json.loads(frame["data"])["scan_id"] == "scn_tagged"
    foreign.assert_quiet(0.3)
