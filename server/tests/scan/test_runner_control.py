"""A running task stops on cancel (<= 5 s) and on the scan timeout; crashes retry up to 3 attempts; an expired
lease is recovered and a held one is respected (scanning.md 1.1)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from s4e_platform.kit.clock import utcnow
from s4e_platform.scan import runner
from s4e_platform.scanners import registry
from s4e_platform.worker import recovery

from tests.scan.conftest import SCANS, events_of, set_scan, set_tasks, verified_asset
from tests.worker import runtime
from tests.worker.runtime import Background, findings_of, scan_row, sightings, task_of, wait_for

peer, loopback = runtime.peer, runtime.loopback  # fixtures


@pytest.fixture
def target(client, tenant) -> dict:
    return verified_asset(client, tenant, "127.0.0.1", "ip")


def _running(scan_id: str):
    return wait_for(lambda: task_of(scan_id).status == "running" and task_of(scan_id).phase == "service_detection")


def test_cancel_stops_a_running_task_within_5_seconds_and_resolves_nothing(client, tenant, target, create, peer,
                                                                           loopback):
    first = create(target["id"], "port", options=peer.scan_options())
    runner.run_task(task_of(first["id"]).id, worker_id="w1")
    peer.password_required, peer.delay = True, 30.0  # fixed, and slow: the next run is still probing
    scan = create(target["id"], "port", options=peer.scan_options())
    run = Background(task_of(scan["id"]).id)
    _running(scan["id"])
    assert scan_row(scan["id"]).status == "running"
    r = client.post(f"{SCANS}/{scan['id']}/cancel", headers=tenant.headers())
    assert r.status_code == 202, r.text
    asked = time.monotonic()
    assert run.join(10) == "cancelled"
    assert run.finished_at - asked <= 5.0
    task = task_of(scan["id"])
    assert task.status == "cancelled" and task.lease_until is None
    row = scan_row(scan["id"])
    assert row.status == "cancelled" and row.task_summary["cancelled"] == 1
    assert events_of("scan.completed")[-1].data["scan_id"] == first["id"]  # no completion event for the cancel
    [finding] = findings_of(target["id"])
    assert finding.status == "open"  # a cancelled run never auto-resolves


def test_scan_timeout_stops_the_task_and_fails_the_scan(client, tenant, target, create, peer, loopback):
    peer.delay = 30.0
    scan = create(target["id"], "port", options=peer.scan_options())
    run = Background(task_of(scan["id"]).id)
    _running(scan["id"])
    set_scan(scan["id"], deadline_at=utcnow() - timedelta(seconds=1))  # the timeout passes while it runs
    assert run.join(10) == "cancelled"
    row = scan_row(scan["id"])
    assert row.status == "failed" and row.error["code"] == "scan_timeout" and row.finished_at is not None
    [failed] = events_of("scan.failed")
    assert failed.data["error"]["code"] == "scan_timeout"


def test_overdue_scan_with_nothing_running_is_timed_out_by_recovery(client, tenant, target, create):
    scan = create(target["id"], "ssl")
    set_scan(scan["id"], status="running", started_at=utcnow() - timedelta(hours=2),
             deadline_at=utcnow() - timedelta(hours=1))
    recovery.requeue_expired()
    row = scan_row(scan["id"])
    assert (row.status, row.error["code"]) == ("failed", "scan_timeout")
    assert task_of(scan["id"]).status == "cancelled"


def test_crashes_retry_then_fail_with_attempts_exhausted(client, tenant, target, create, peer, monkeypatch):
    scanner = registry.get("port_scan")

    def crash(*_args, **_kwargs):
        raise RuntimeError("scanner bug")

    monkeypatch.setattr(scanner, "run", crash)
    scan = create(target["id"], "port", options=peer.scan_options())
    task_id = task_of(scan["id"]).id
    assert runner.run_task(task_id, worker_id="w1") == "queued"
    task = task_of(scan["id"])
    assert (task.attempts, task.error["code"], task.worker) == (1, "worker_error", None)
    assert "scanner bug" in task.error["message"]
    assert runner.run_task(task_id, worker_id="w1") == "queued"
    outcome = runner.execute(task_id, worker_id="w1")
    assert outcome == runner.Outcome("failed", exhausted=True)
    task = task_of(scan["id"])
    assert (task.status, task.attempts, task.error["code"]) == ("failed", 3, "attempts_exhausted")
    row = scan_row(scan["id"])
    assert row.status == "failed" and row.error["code"] == "attempts_exhausted"
    assert runner.run_task(task_id, worker_id="w1") == "failed"  # terminal: nothing more happens
    assert task_of(scan["id"]).attempts == 3


def test_expired_lease_is_requeued_and_rerun_without_duplicates(client, tenant, target, create, peer, loopback):
    scan = create(target["id"], "port", options=peer.scan_options())
    task_id = task_of(scan["id"]).id
    runner.run_task(task_id, worker_id="w1")
    rerun = client.post(f"{SCANS}/{scan['id']}/rerun", headers=tenant.headers()).json()["data"]
    rerun_task = task_of(rerun["id"]).id
    # A worker took the task and died: running, lease lapsed, one attempt spent.
    set_tasks(rerun["id"], status="running", worker="dead-worker", attempts=1, started_at=utcnow(),
              lease_until=utcnow() - timedelta(seconds=1))
    assert recovery.requeue_expired() == 1
    task = task_of(rerun["id"])
    assert (task.status, task.error["code"], task.worker, task.attempts) == ("queued", "lease_expired", None, 1)
    assert runner.run_task(rerun_task, worker_id="w2") == "completed"
    assert task_of(rerun["id"]).attempts == 2
    [finding] = findings_of(target["id"])
    assert sightings(finding.id) == 2


def test_a_held_lease_is_not_run_twice_and_lost_dispatches_come_back(client, tenant, target, create):
    scan = create(target["id"], "ssl")
    held = create(verified_asset(client, tenant, "127.0.0.2", "ip")["id"], "ssl")
    set_tasks(scan["id"], status="running", worker="other", attempts=1, lease_until=utcnow() + timedelta(minutes=1))
    assert runner.run_task(task_of(scan["id"]).id, worker_id="w1") == "running"
    assert task_of(scan["id"]).worker == "other" and task_of(scan["id"]).attempts == 1
    set_tasks(held["id"], status="dispatched", dispatched_at=utcnow() - timedelta(hours=1))
    assert recovery.requeue_expired() == 1
    assert (task_of(held["id"]).status, task_of(held["id"]).error["code"]) == ("queued", "dispatch_lost")
    assert task_of(scan["id"]).status == "running"  # its lease is live


def test_tasks_of_a_cancelled_scan_do_not_run(client, tenant, target, create):
    scan = create(target["id"], "ssl")
    task_id = task_of(scan["id"]).id
    set_tasks(scan["id"], status="dispatched")
    client.post(f"{SCANS}/{scan['id']}/cancel", headers=tenant.headers())
    assert runner.run_task(task_id, worker_id="w1") == "cancelled"
    assert task_of(scan["id"]).attempts == 0
