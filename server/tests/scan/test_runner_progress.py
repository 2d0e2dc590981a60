"""The scan aggregate: weighted progress, phase of the oldest running task, summary, and exactly one final event
when the last tasks of a scan finish at the same moment in two workers (scanning.md 1.1)."""

from __future__ import annotations

import threading
from datetime import timedelta

from s4e_platform.db.session import unit_of_work
from s4e_platform.kit.clock import utcnow
from s4e_platform.scan import progress
from s4e_platform.scan.models import ScanTask
from sqlalchemy import update

from tests.scan.conftest import events_of, set_tasks, task_rows, verified_asset
from tests.worker.runtime import scan_row


def _refresh(scan_id: str) -> None:
    with unit_of_work() as s:
        progress.refresh(s, scan_id)


def test_progress_phase_and_summary(client, tenant, create):
    domain = verified_asset(client, tenant)
    scan = create(domain["id"], "custom", scanners=["port_scan", "tls", "dns"])  # weights 3, 1, 1
    port, tls, dns = task_rows(scan["id"])
    now = utcnow()
    set_tasks(scan["id"], ScanTask.id == port.id, status="running", progress=0.5, phase="port_scanning",
              started_at=now - timedelta(seconds=10), attempts=1)
    set_tasks(scan["id"], ScanTask.id == tls.id, status="running", progress=0.2, phase="tls_checks",
              started_at=now, attempts=1)
    set_tasks(scan["id"], ScanTask.id == dns.id, status="dispatched")
    _refresh(scan["id"])
    row = scan_row(scan["id"])
    assert row.status == "running" and row.progress == int(100 * (3 * 0.5 + 0.2) / 5)
    assert row.current_phase == "port_scanning"  # the oldest running task's phase
    assert row.task_summary == {"total": 3, "queued": 1, "running": 2, "completed": 0, "failed": 0, "cancelled": 0}
    assert row.deadline_at == row.started_at + timedelta(seconds=3600)
    set_tasks(scan["id"], ScanTask.id == port.id, status="partial", finished_at=now)
    set_tasks(scan["id"], ScanTask.id == dns.id, status="failed", error={"code": "x", "message": "y"})
    _refresh(scan["id"])
    row = scan_row(scan["id"])
    assert row.current_phase == "tls_checks" and row.progress == int(100 * (3 + 0.2 + 1) / 5)
    assert row.task_summary == {"total": 3, "queued": 0, "running": 1, "completed": 1, "failed": 1, "cancelled": 0}
    set_tasks(scan["id"], ScanTask.id == tls.id, status="completed", finished_at=now)
    _refresh(scan["id"])
    row = scan_row(scan["id"])
    assert (row.status, row.progress, row.current_phase, row.error) == ("completed", 100, None, None)
    assert [t.status for t in task_rows(scan["id"])] == ["partial", "completed", "failed"]  # rows keep partial


def test_every_task_failed_fails_the_scan(client, tenant, create):
    scan = create(verified_asset(client, tenant)["id"], "ssl")
    set_tasks(scan["id"], status="failed", started_at=utcnow(), attempts=1,
              error={"code": "resolution_failed", "message": "example.com does not resolve"})
    _refresh(scan["id"])
    row = scan_row(scan["id"])
    assert row.status == "failed" and row.error == {"code": "resolution_failed",
                                                    "message": "example.com does not resolve"}
    assert [e.data["scan_id"] for e in events_of("scan.started")] == [scan["id"]]
    [failed] = events_of("scan.failed")
    assert failed.data["error"] == row.error and set(failed.data) == {"scan_id", "asset_id", "scan_type", "error",
                                                                      "duration"}


def test_last_tasks_finishing_together_complete_the_scan_once(client, tenant, create):
    domain = verified_asset(client, tenant)
    for _ in range(5):
        scan = create(domain["id"], "custom", scanners=["tls", "dns"])
        set_tasks(scan["id"], status="running", started_at=utcnow(), attempts=1)
        _refresh(scan["id"])
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def finish(task_id: str, scan_id: str = scan["id"], barrier=barrier, errors=errors) -> None:
            try:
                barrier.wait(5)
                with unit_of_work() as s:
                    s.execute(update(ScanTask).where(ScanTask.id == task_id).values(status="completed"))
                    progress.refresh(s, scan_id)
            except BaseException as exc:  # reported below: a thread's failure must fail the test
                errors.append(exc)

        threads = [threading.Thread(target=finish, args=(t.id,)) for t in task_rows(scan["id"])]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors
        assert scan_row(scan["id"]).status == "completed"
        assert [e.data["scan_id"] for e in events_of("scan.completed")].count(scan["id"]) == 1


def test_heartbeat_progress_is_published_as_scan_progress(client, tenant, create, monkeypatch):
    """A running task's progress write refreshes the scan and, after commit, hands a scan.progress frame to the
    streams (SSE delivery and throttling are tested in tests/event/test_stream_progress.py)."""
    from s4e_platform.event import ephemeral
    from s4e_platform.scan.runner import Claim
    from s4e_platform.scan.runner_control import Control
    from s4e_platform.scanners.base import ProgressUpdate

    sent: list[dict] = []
    monkeypatch.setattr(ephemeral, "publish", lambda **frame: sent.append(frame))
    asset = verified_asset(client, tenant, "93.184.216.34", "ip")
    scan = create(asset["id"], "port")
    [task] = task_rows(scan["id"])
    set_tasks(scan["id"], status="running", worker="w1", attempts=1, started_at=task.created_at)
    claim = Claim(task_id=task.id, scan_id=scan["id"], workspace_id=tenant.workspace_id, asset_id=asset["id"],
                  scanner="port_scan", target=dict(task.target), options={}, network_zone="external", attempt=1,
                  worker_id="w1", deadline_at=None)
    Control(claim)._write(ProgressUpdate(0.42, "port_scanning"))
    assert sent == [{"workspace_id": tenant.workspace_id, "asset_id": asset["id"], "event": "scan.progress",
                     "data": {"scan_id": scan["id"], "progress": 42, "phase": "port_scanning"}}]
