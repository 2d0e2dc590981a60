"""Scan reads and actions: list filters and sorts, status, cancel, rerun, tasks, output, asset restriction."""

from __future__ import annotations

import json
from datetime import timedelta

from s4e_platform.kit.clock import utcnow
from s4e_platform.scan.models import ScanTask

from tests.scan.conftest import SCANS, events_of, set_scan, set_tasks, task_rows, verified_asset


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["data"]]


def test_list_filters_and_sorts(client, tenant, domain, create):
    ip = verified_asset(client, tenant, "203.0.113.7", "ip")
    low = create(domain["id"], "ssl", priority="low")
    high = create(ip["id"], "port", priority="high")
    normal = create(domain["id"], "dns")
    h = tenant.headers()
    now = utcnow()
    set_scan(low["id"], status="completed", started_at=now - timedelta(minutes=9), finished_at=now)
    set_scan(high["id"], status="running", started_at=now - timedelta(minutes=5))
    assert ids(client.get(SCANS, headers=h)) == [normal["id"], high["id"], low["id"]]  # created_at desc
    assert ids(client.get(SCANS, params={"sort_order": "asc"}, headers=h)) == [low["id"], high["id"], normal["id"]]
    assert ids(client.get(SCANS, params={"sort_by": "priority", "sort_order": "asc"}, headers=h)) == [
        low["id"], normal["id"], high["id"]]
    by_start = ids(client.get(SCANS, params={"sort_by": "started_at", "sort_order": "desc"}, headers=h))
    assert [i for i in by_start if i != normal["id"]] == [high["id"], low["id"]]  # NULL placement is the DB's
    assert ids(client.get(SCANS, params={"status": "running,completed", "sort_order": "asc"}, headers=h)) == [
        low["id"], high["id"]]
    assert ids(client.get(SCANS, params={"asset_id": domain["id"]}, headers=h)) == [normal["id"], low["id"]]
    assert ids(client.get(SCANS, params={"asset_id": "not-an-id"}, headers=h)) == []
    assert ids(client.get(SCANS, params={"scan_type": "port"}, headers=h)) == [high["id"]]
    assert ids(client.get(SCANS, params={"priority": "high,low", "sort_order": "asc"}, headers=h)) == [
        low["id"], high["id"]]
    assert ids(client.get(SCANS, params={"from": (now + timedelta(hours=1)).isoformat()}, headers=h)) == []
    assert len(ids(client.get(SCANS, params={"to": (now + timedelta(hours=1)).isoformat()}, headers=h))) == 3
    for bad in ({"status": "done"}, {"sort_by": "name"}, {"scan_type": "nmap"}, {"priority": "urgent"}):
        r = client.get(SCANS, params=bad, headers=h)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_parameter", r.text
    paged = client.get(SCANS, params={"per_page": 2, "page": 2}, headers=h).json()
    assert paged["meta"] == {"total": 3, "page": 2, "per_page": 2, "total_pages": 2} and len(paged["data"]) == 1


def test_profile_filter(client, tenant, domain, create):
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.kit.ids import new_id
    from s4e_platform.scan_profile.models import ScanProfile

    profile_id = new_id("prf")
    with unit_of_work() as s:
        s.add(ScanProfile(id=profile_id, workspace_id=tenant.workspace_id, name="weekly", scope={}, scanners=[],
                          options={}, schedule={}, post_scan_actions=[]))
    from_profile, manual = create(domain["id"]), create(domain["id"])
    set_scan(from_profile["id"], profile_id=profile_id)
    got = client.get(SCANS, params={"profile_id": profile_id}, headers=tenant.headers())
    assert ids(got) == [from_profile["id"]] and got.json()["data"][0]["profile_id"] == profile_id
    assert manual["id"] not in ids(got)


def test_status_duration_and_estimate(client, tenant, domain, create):
    now = utcnow()
    for minutes in (2, 5, 10):
        done = create(domain["id"], "ssl")
        set_scan(done["id"], status="completed", started_at=now - timedelta(minutes=minutes), finished_at=now)
    running = create(domain["id"], "ssl")
    set_scan(running["id"], status="running", progress=40, current_phase="tls_checks",
             started_at=now - timedelta(seconds=90),
             task_summary={"total": 1, "queued": 0, "running": 1, "completed": 0, "failed": 0, "cancelled": 0})
    h = tenant.headers()
    status = client.get(f"{SCANS}/{running['id']}/status", headers=h).json()["data"]
    assert status == {"scan_id": running["id"], "status": "running", "progress": 40, "current_phase": "tls_checks",
                      "task_summary": {"total": 1, "queued": 0, "running": 1, "completed": 0, "failed": 0,
                                       "cancelled": 0}}
    detail = client.get(f"{SCANS}/{running['id']}", headers=h).json()["data"]
    assert detail["estimated_duration_minutes"] == 5  # median of 2, 5 and 10 minutes
    assert 90 <= detail["duration_seconds"] < 150 and detail["finished_at"] is None
    other_type = create(domain["id"], "port")
    assert other_type["estimated_duration_minutes"] is None


def test_cancel_stops_pending_tasks_and_is_409_once_terminal(client, tenant, domain, create):
    scan = create(domain["id"], "full")
    set_tasks(scan["id"], ScanTask.scanner == "port_scan", status="running")
    set_tasks(scan["id"], ScanTask.scanner == "tls", status="dispatched")
    set_scan(scan["id"], status="running")
    r = client.post(f"{SCANS}/{scan['id']}/cancel", headers=tenant.headers("analyst"))
    assert r.status_code == 202, r.text
    data = r.json()["data"]
    assert data["status"] == "cancelled" and data["finished_at"] is not None
    assert data["cancelled_by"]["type"] == "api_key" and data["cancelled_by"]["name"] == "analyst-key"
    assert data["task_summary"] == {"total": 7, "queued": 0, "running": 1, "completed": 0, "failed": 0,
                                    "cancelled": 6}
    statuses = {t.scanner: t.status for t in task_rows(scan["id"])}
    assert statuses.pop("port_scan") == "running"  # it stops at its next stop check (the runner's job)
    assert set(statuses.values()) == {"cancelled"}
    [event] = events_of("scan.cancelled")
    assert event.data == {"scan_id": scan["id"], "asset_id": domain["id"], "cancelled_by": data["cancelled_by"]}
    again = client.post(f"{SCANS}/{scan['id']}/cancel", headers=tenant.headers())
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_state"
    assert len(events_of("scan.cancelled")) == 1
    done = create(domain["id"])
    set_scan(done["id"], status="completed")
    assert client.post(f"{SCANS}/{done['id']}/cancel", headers=tenant.headers()).status_code == 409
    viewer = client.post(f"{SCANS}/{create(domain['id'])['id']}/cancel", headers=tenant.headers("viewer"))
    assert viewer.status_code == 403


def test_rerun_copies_the_scan(client, tenant, domain, create):
    first = create(domain["id"], "custom", scanners=["tls", "http_headers"], priority="high",
                   options={"tls_ports": "443,8443"})
    set_scan(first["id"], status="completed")
    r = client.post(f"{SCANS}/{first['id']}/rerun", headers=tenant.headers("analyst"))
    assert r.status_code == 201, r.text
    again = r.json()["data"]
    assert r.headers["location"] == f"{SCANS}/{again['id']}" and again["id"] != first["id"]
    for field in ("asset_id", "scan_type", "scanners", "options", "priority"):
        assert again[field] == first[field], field
    assert again["rerun_of"] == first["id"] and again["triggered_by"] == {"type": "rerun", "id": first["id"]}
    assert again["status"] == "queued" and again["created_by"] == tenant.users["analyst"]
    assert len(task_rows(again["id"])) == 2
    assert events_of("scan.created")[-1].data["triggered_by"] == {"type": "rerun", "id": first["id"]}


def test_tasks_list_and_output(client, tenant, domain, create):
    scan = create(domain["id"], "full")
    h = tenant.headers()
    tasks = client.get(f"{SCANS}/{scan['id']}/tasks", params={"sort_by": "scanner", "sort_order": "asc",
                                                               "per_page": 3}, headers=h).json()
    assert [t["scanner"] for t in tasks["data"]] == ["dns", "email_security", "exposed_files"]
    assert tasks["meta"]["total"] == 7
    task = tasks["data"][0]
    assert set(task) == {"id", "scan_id", "scanner", "target", "status", "route", "agent_id", "attempts", "progress",
                         "phase", "error", "finding_counts", "created_at", "started_at", "finished_at"}
    assert task["route"] == "platform" and task["attempts"] == 0 and task["target"]["value"] == "example.com"
    filtered = client.get(f"{SCANS}/{scan['id']}/tasks", params={"scanner": "tls,dns"}, headers=h).json()
    assert sorted(t["scanner"] for t in filtered["data"]) == ["dns", "tls"]
    assert client.get(f"{SCANS}/{scan['id']}/tasks", params={"status": "bogus"}, headers=h).status_code == 400

    assert client.get(f"{SCANS}/{scan['id']}/output", headers=h).text == ""
    set_tasks(scan["id"], ScanTask.scanner == "port_scan", raw_output="PORT STATE\n443/tcp open https\n")
    set_tasks(scan["id"], ScanTask.scanner == "tls",
              raw_output='{"template-id":"tls-weak","matched-at":"example.com:443"}\n')
    r = client.get(f"{SCANS}/{scan['id']}/output", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in r.text.splitlines()]
    by_scanner = {t.scanner: t.id for t in task_rows(scan["id"])}
    assert lines == [
        {"task_id": by_scanner["port_scan"], "scanner": "port_scan", "target": "example.com", "output": "PORT STATE"},
        {"task_id": by_scanner["port_scan"], "scanner": "port_scan", "target": "example.com",
         "output": "443/tcp open https"},
        {"template-id": "tls-weak", "matched-at": "example.com:443", "task_id": by_scanner["tls"], "scanner": "tls"},
    ]


def test_restricted_keys_see_only_scans_of_allowed_assets(client, tenant, domain, create):
    other = verified_asset(client, tenant, "other.example.com", tags=["prod"])
    mine, theirs = create(domain["id"]), create(other["id"])
    key = tenant.key(["write:scans"], asset_restriction={"asset_ids": [domain["id"]], "tags": []})
    h = {"Authorization": f"Bearer {key}"}
    assert ids(client.get(SCANS, headers=h)) == [mine["id"]]
    for path in ("", "/status", "/tasks", "/output"):
        assert client.get(f"{SCANS}/{theirs['id']}{path}", headers=h).status_code == 404, path
    assert client.post(f"{SCANS}/{theirs['id']}/cancel", headers=h).status_code == 404
    assert client.post(f"{SCANS}/{theirs['id']}/rerun", headers=h).status_code == 404
    refused = client.post(SCANS, json={"asset_id": other["id"], "scan_type": "ssl"}, headers=h)
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["path"] == "$.asset_id"
    assert client.post(SCANS, json={"asset_id": domain["id"], "scan_type": "ssl"}, headers=h).status_code == 201
    by_tag = tenant.key(["read:scans"], asset_restriction={"asset_ids": [], "tags": ["prod"]})
    assert ids(client.get(SCANS, headers={"Authorization": f"Bearer {by_tag}"})) == [theirs["id"]]


def test_other_workspace_and_malformed_ids_are_404(client, tenant, other_tenant, domain, create):
    scan = create(domain["id"])
    assert client.get(f"{SCANS}/{scan['id']}", headers=other_tenant.headers()).status_code == 404
    assert client.get(f"{SCANS}/ast_01hv8x5m3t9q4zc2n7k1r6pbde", headers=tenant.headers()).status_code == 404
    assert client.get(f"{SCANS}/{scan['id'].upper()}", headers=tenant.headers()).json()["data"]["id"] == scan["id"]
    assert ids(client.get(SCANS, headers=other_tenant.headers())) == []
