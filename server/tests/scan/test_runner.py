"""Running scan tasks against a planted loopback target: findings once, reruns without duplicates, auto-resolve,
services, raw output, scan events and aggregate state (scanning.md 1.1, 6.2-6.5)."""

from __future__ import annotations

import json

import pytest
from s4e_platform.scan import runner

from tests.scan.conftest import SCANS, events_of, verified_asset
from tests.worker import runtime
from tests.worker.runtime import findings_of, scan_row, services_of, sightings, task_of

peer, loopback = runtime.peer, runtime.loopback  # fixtures


@pytest.fixture
def target(client, tenant) -> dict:
    return verified_asset(client, tenant, "127.0.0.1", "ip")


def port_scan(create, target, peer) -> dict:
    return create(target["id"], "port", options=peer.scan_options())


def test_findings_services_events_and_raw_output(client, tenant, target, create, peer, loopback):
    scan = port_scan(create, target, peer)
    task = task_of(scan["id"])
    assert runner.run_task(task.id, worker_id="w1") == "completed"

    [finding] = findings_of(target["id"])
    assert (finding.check_id, finding.location["port"], finding.status) == ("redis_unauthenticated", peer.port, "open")
    assert finding.scan_id == scan["id"] and sightings(finding.id) == 1
    [svc] = services_of(target["id"])
    assert (svc.port, svc.service, svc.last_scan_id) == (peer.port, "redis", scan["id"])

    done = task_of(scan["id"])
    assert (done.status, done.attempts, done.progress, done.lease_until) == ("completed", 1, 1.0, None)
    assert done.finding_counts == {"new": 1, "reopened": 0, "seen": 0, "resolved": 0, "by_severity": {"critical": 1}}
    assert done.coverage["hosts"] == {"127.0.0.1": str(peer.port)}
    assert f"{peer.port}" in done.raw_output and "redis" in done.raw_output  # the scanner's own table

    data = client.get(f"{SCANS}/{scan['id']}", headers=tenant.headers()).json()["data"]
    assert (data["status"], data["progress"], data["current_phase"], data["error"]) == ("completed", 100, None, None)
    assert data["task_summary"] == {"total": 1, "queued": 0, "running": 0, "completed": 1, "failed": 0,
                                    "cancelled": 0}
    assert data["finding_counts"] == {"new": 1, "reopened": 0, "resolved": 0, "seen": 0, "by_severity": {
        "critical": 1, "high": 0, "medium": 0, "low": 0, "info": 0}}
    assert data["started_at"] and data["finished_at"]
    [started] = events_of("scan.started")
    assert started.data == {"scan_id": scan["id"], "asset_id": target["id"], "scan_type": "port", "task_count": 1}
    [completed] = events_of("scan.completed")
    assert completed.data["finding_counts"] == {"new": 1, "reopened": 0, "resolved": 0, "seen": 0}
    assert completed.data["finding_count"] == 1 and completed.data["status"] == "completed"
    assert completed.data["duration"] >= 0
    asset = client.get(f"/api/v1/assets/{target['id']}", headers=tenant.headers()).json()["data"]
    assert asset["last_scan_id"] == scan["id"] and asset["service_count"] == 1

    # The task is terminal: a redelivered message is a no-op.
    assert runner.run_task(task.id, worker_id="w2") == "completed"
    assert task_of(scan["id"]).attempts == 1 and len(events_of("scan.completed")) == 1


def test_rerun_adds_sightings_not_duplicates_and_a_fixed_flaw_is_resolved(client, tenant, target, create, peer,
                                                                          loopback):
    first = port_scan(create, target, peer)
    runner.run_task(task_of(first["id"]).id, worker_id="w1")
    rerun = client.post(f"{SCANS}/{first['id']}/rerun", headers=tenant.headers()).json()["data"]
    assert runner.run_task(task_of(rerun["id"]).id, worker_id="w1") == "completed"

    [finding] = findings_of(target["id"])
    assert sightings(finding.id) == 2 and finding.last_scan_id == rerun["id"] and finding.status == "open"
    assert scan_row(rerun["id"]).finding_counts["seen"] == 1 and len(services_of(target["id"])) == 1
    assert len(events_of("finding.new")) == 1

    peer.password_required = True  # the operator fixed it
    fixed = client.post(f"{SCANS}/{rerun['id']}/rerun", headers=tenant.headers()).json()["data"]
    assert runner.run_task(task_of(fixed["id"]).id, worker_id="w1") == "completed"
    [finding] = findings_of(target["id"])
    assert (finding.status, finding.resolution) == ("resolved", "auto")
    counts = scan_row(fixed["id"]).finding_counts
    assert {k: counts[k] for k in ("new", "reopened", "resolved", "seen")} == {
        "new": 0, "reopened": 0, "resolved": 1, "seen": 0}
    assert set(counts["by_severity"].values()) == {0}
    [resolved] = events_of("finding.resolved")
    assert resolved.data["scan_id"] == fixed["id"] and resolved.data["resolution"] == "auto"
    [completed] = [e for e in events_of("scan.completed") if e.data["scan_id"] == fixed["id"]]
    assert completed.data["finding_counts"]["resolved"] == 1

    peer.password_required = False  # and it came back
    again = client.post(f"{SCANS}/{fixed['id']}/rerun", headers=tenant.headers()).json()["data"]
    runner.run_task(task_of(again["id"]).id, worker_id="w1")
    [finding] = findings_of(target["id"])
    assert (finding.status, finding.reopen_count) == ("reopened", 1)
    assert scan_row(again["id"]).finding_counts["reopened"] == 1


def test_unreachable_target_fails_the_scan_with_the_scanners_reason(client, tenant, target, create, peer):
    # No allowlist: a platform worker refuses loopback, so nothing can be scanned.
    scan = port_scan(create, target, peer)
    status = runner.run_task(task_of(scan["id"]).id, worker_id="w1")
    row = scan_row(scan["id"])
    assert status == "failed" and row.status == "failed"
    assert row.error["code"] == "address_not_allowed"
    [failed] = events_of("scan.failed")
    assert failed.data["error"] == row.error and failed.data["scan_id"] == scan["id"]
    assert findings_of(target["id"]) == []


def test_raw_output_defaults_to_json_lines_with_fingerprints():
    from datetime import datetime, timezone

    from s4e_platform.finding.fingerprint import fingerprint
    from s4e_platform.scan.runner import Claim
    from s4e_platform.scan.runner_record import json_lines
    from s4e_platform.scanners.base import FindingCandidate, Location, ScanResult, ServiceObservation

    now = datetime.now(timezone.utc)
    candidate = FindingCandidate(check_id="redis_unauthenticated", title="Redis without a password",
                                 severity="critical", description="d", remediation="r", category="exposure",
                                 location=Location(ip="203.0.113.5", port=6379, protocol="tcp"))
    result = ScanResult(scanner="port_scan", status="completed", started_at=now, finished_at=now,
                        services=[ServiceObservation(ip="203.0.113.5", port=6379, service="redis")],
                        findings=[candidate])
    claim = Claim(task_id="tsk_1", scan_id="scn_1", workspace_id="wsp_1", asset_id="ast_1", scanner="port_scan",
                  target={}, options={}, network_zone="external", attempt=1, worker_id="w", deadline_at=None)
    lines = [json.loads(line) for line in json_lines(claim, result).splitlines()]
    assert [(line["type"], line["port"] if "port" in line else line["location"]["port"]) for line in lines] == [
        ("service", 6379), ("finding", 6379)]
    assert lines[0]["s4e"] == {"scan_id": "scn_1", "task_id": "tsk_1", "asset_id": "ast_1"}
    assert lines[1]["s4e"]["fingerprint"] == fingerprint(asset_id="ast_1", scanner="port_scan",
                                                         check_id="redis_unauthenticated",
                                                         location=candidate.location)
