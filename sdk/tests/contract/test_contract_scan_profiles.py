"""`client.scan_profiles` (blocking and asyncio) against the real platform app, in-process."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from s4e import AsyncS4EClient, S4EClient, errors
from s4e.models import ProfileRun, ScanProfile, ScheduleInput, SchedulePreview

BASE_URL = "http://testserver/api/v1"


def _asset(platform, name: str, **fields) -> str:
    r = platform.http.post("/api/v1/assets", json={"name": name, "type": "domain", **fields},
                           headers=platform.tenant.headers())
    assert r.status_code == 201, r.text
    return r.json()["data"]["id"]


def test_profile_lifecycle(platform, recorder):
    asset_id = _asset(platform, "example.com", tags=["web"])
    client = S4EClient(api_key=platform.tenant.keys["analyst"], base_url=BASE_URL,
                       http_client=httpx.Client(transport=recorder))
    profile = client.scan_profiles.create(
        name="nightly", scan_type="custom", scanners=["email_security"], scope={"tags": ["web"]},
        schedule=ScheduleInput(cron="0 12 * * *", timezone="Asia/Tokyo",
                               skip_windows=[{"cron": "0 12 * * 6,0", "duration_minutes": 30}]),
        post_scan_actions=[{"on": "failed", "action_ref": "slack.notify"}])
    assert isinstance(profile, ScanProfile) and profile.id.startswith("prf_")
    sent = json.loads(recorder.requests[-1].content)
    assert sent["schedule"] == {"cron": "0 12 * * *", "timezone": "Asia/Tokyo",
                                "skip_windows": [{"cron": "0 12 * * 6,0", "duration_minutes": 30}]}
    assert "description" not in sent and profile.schedule.timezone == "Asia/Tokyo"
    assert profile.next_run_at is not None and profile.next_run_at.hour == 3

    assert client.scan_profiles.get(profile.id) == profile
    assert [p.id for p in client.scan_profiles.list(search="night", enabled=True)] == [profile.id]
    assert recorder.requests[-1].url.params["enabled"] == "true"

    preview = client.scan_profiles.schedule_preview(profile.id, count=7)
    assert isinstance(preview, SchedulePreview) and len(preview.entries) == 7 and preview.timezone == "Asia/Tokyo"
    assert sum(e.skipped for e in preview.entries) == 2

    run = client.scan_profiles.run(profile.id)
    assert isinstance(run, ProfileRun) and run.in_scope == 1 and run.skipped == []
    assert [s.asset_id for s in run.scans] == [asset_id] and run.scans[0].profile_id == profile.id
    again = client.scan_profiles.run(profile.id)
    assert again.scans == [] and again.skipped[0].reason == "already_running"

    updated = client.scan_profiles.update(profile.id, schedule=None, description="manual only")
    assert json.loads(recorder.requests[-1].content) == {"schedule": None, "description": "manual only"}
    assert updated.schedule is None and updated.next_run_at is None
    with pytest.raises(ValueError):
        client.scan_profiles.update(profile.id)

    with pytest.raises(errors.ValidationError) as invalid:
        client.scan_profiles.create(name="bad", scan_type="custom", scanners=["nope"], scope={"tags": ["web"]})
    assert invalid.value.errors[0].path == "$.scanners[0]"
    with pytest.raises(errors.ConflictError):
        client.scan_profiles.create(name="nightly", scan_type="dns", scope={"asset_types": ["domain"]})

    client.scan_profiles.delete(profile.id)
    with pytest.raises(errors.NotFoundError):
        client.scan_profiles.get(profile.id)


def test_async_scan_profiles(platform):
    asset_id = _asset(platform, "example.org")

    async def scenario():
        transport = httpx.ASGITransport(app=platform.http.app)
        async with httpx.AsyncClient(transport=transport) as http:
            client = AsyncS4EClient(api_key=platform.tenant.keys["admin"], base_url=BASE_URL, http_client=http)
            created = await client.scan_profiles.create(name="a", scan_type="custom", scanners=["email_security"],
                                                        scope={"asset_ids": [asset_id]})
            got = await client.scan_profiles.get(created.id)
            listed = [p.id async for p in client.scan_profiles.list()]
            updated = await client.scan_profiles.update(created.id, schedule={"cron": "0 1 * * *"})
            preview = await client.scan_profiles.schedule_preview(created.id, count=2)
            run = await client.scan_profiles.run(created.id)
            await client.scan_profiles.delete(created.id)
            return created, got, listed, updated, preview, run

    created, got, listed, updated, preview, run = asyncio.run(scenario())
    assert got == created and listed == [created.id]
    assert updated.schedule.cron == "0 1 * * *" and [e.at_utc.hour for e in preview.entries] == [1, 1]
    assert [s.asset_id for s in run.scans] == [asset_id]
