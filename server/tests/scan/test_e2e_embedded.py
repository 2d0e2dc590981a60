"""Embedded mode end to end: POST /scans -> the release loop (dispatcher lease) -> in-process executor threads ->
findings, through the same Background wiring `s4e server up` uses."""

from __future__ import annotations

import pytest
from s4e_platform.runtime.background import Background
from s4e_platform.worker import executor

from tests.scan.conftest import SCANS, events_of, verified_asset
from tests.worker import runtime
from tests.worker.runtime import findings_of, task_of, wait_for

peer, loopback = runtime.peer, runtime.loopback  # fixtures


@pytest.fixture
def dispatcher(settings):
    settings.executor_concurrency = 2
    executor.reset_shared()
    bg = Background()
    bg.start_dispatcher()
    yield bg
    bg.shutdown()
    executor.reset_shared()


def _scan(client, tenant, scan_id: str) -> dict:
    return client.get(f"{SCANS}/{scan_id}", headers=tenant.headers()).json()["data"]


def test_post_scans_runs_on_executor_threads(client, tenant, peer, loopback, dispatcher):
    target = verified_asset(client, tenant, "127.0.0.1", "ip")
    body = {"asset_id": target["id"], "scan_type": "custom", "scanners": ["port_scan", "tls"],
            "options": {**peer.scan_options(), "tls_ports": [peer.port]}}
    r = client.post(SCANS, json=body, headers=tenant.headers())
    assert r.status_code == 201, r.text
    scan_id = r.json()["data"]["id"]
    done = wait_for(lambda: (s := _scan(client, tenant, scan_id))["status"] in ("completed", "failed") and s, 30)
    assert done["status"] == "completed" and done["progress"] == 100
    assert done["task_summary"]["total"] == 2 and done["task_summary"]["queued"] == 0
    assert done["task_summary"]["running"] == 0
    [finding] = findings_of(target["id"])
    assert finding.check_id == "redis_unauthenticated" and finding.scan_id == scan_id
    # Both tasks finished concurrently on two threads: exactly one start and one completion event.
    assert [e.data["scan_id"] for e in events_of("scan.started")] == [scan_id]
    assert [e.data["scan_id"] for e in events_of("scan.completed")] == [scan_id]
    tasks = client.get(f"{SCANS}/{scan_id}/tasks", headers=tenant.headers()).json()["data"]
    assert {t["scanner"] for t in tasks} == {"port_scan", "tls"}

    # A second scan of the same asset: findings are sighted again, never duplicated.
    again = client.post(f"{SCANS}/{scan_id}/rerun", headers=tenant.headers()).json()["data"]
    wait_for(lambda: _scan(client, tenant, again["id"])["status"] == "completed", 30)
    [finding] = findings_of(target["id"])
    assert finding.sighting_count == 2 and finding.last_scan_id == again["id"]


def test_scans_of_one_asset_run_one_after_the_other(client, tenant, peer, loopback, dispatcher):
    target = verified_asset(client, tenant, "127.0.0.1", "ip")
    ids = []
    for _ in range(2):
        r = client.post(SCANS, json={"asset_id": target["id"], "scan_type": "port", "options": peer.scan_options()},
                        headers=tenant.headers())
        ids.append(r.json()["data"]["id"])
    wait_for(lambda: all(_scan(client, tenant, i)["status"] == "completed" for i in ids), 30)
    first, second = (task_of(i) for i in ids)
    assert first.finished_at <= second.started_at  # never both running
