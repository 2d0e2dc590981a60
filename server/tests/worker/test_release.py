"""The release step: priority then age, one running scan per asset, 10 running scans per workspace, tasks of
finished scans never released, the hand-off after commit (scanning.md 1.1)."""

from __future__ import annotations

import pytest
from s4e_platform.db.session import unit_of_work
from s4e_platform.kit.clock import utcnow
from s4e_platform.scan.models import ScanTask
from s4e_platform.worker import release
from s4e_platform.workspace.models import Workspace
from sqlalchemy import select

from tests.scan import conftest as scan_fixtures
from tests.scan.conftest import SCANS, set_scan, set_tasks, task_rows, verified_asset

create = scan_fixtures.create  # fixture


class Collect:
    def __init__(self) -> None:
        self.items: list[release.Released] = []

    def __call__(self, released: list[release.Released]) -> None:
        # The hand-off happens after commit: the rows are visible as dispatched from another session.
        with unit_of_work(readonly=True) as s:
            statuses = set(s.execute(select(ScanTask.status).where(
                ScanTask.id.in_([r.task_id for r in released]))).scalars())
        assert statuses == {"dispatched"}
        self.items.extend(released)

    def scans(self) -> set[str]:
        with unit_of_work(readonly=True) as s:
            return set(s.execute(select(ScanTask.scan_id).where(
                ScanTask.id.in_([r.task_id for r in self.items]))).scalars())


@pytest.fixture
def sink() -> Collect:
    return Collect()


def _asset(client, tenant, n: int) -> dict:
    return verified_asset(client, tenant, f"host{n}.example.com", "domain")


def _finish(scan_id: str) -> None:
    set_tasks(scan_id, status="completed", finished_at=utcnow())
    set_scan(scan_id, status="completed", finished_at=utcnow())


def test_priority_then_age(client, tenant, create, sink):
    low = create(_asset(client, tenant, 1)["id"], "ssl", priority="low")
    normal = create(_asset(client, tenant, 2)["id"], "ssl")
    high = create(_asset(client, tenant, 3)["id"], "ssl", priority="high")
    order = []
    for _ in range(3):
        assert release.release_once(1, sink) == 1
        order.append(sink.items[-1].task_id)
    assert order == [task_rows(s["id"])[0].id for s in (high, normal, low)]
    assert [i.priority_rank for i in sink.items] == [2, 1, 0] and {i.queue for i in sink.items} == {"scans"}
    assert release.release_once(10, sink) == 0


def test_one_running_scan_per_asset_and_all_tasks_of_a_started_scan(client, tenant, create, sink):
    domain = _asset(client, tenant, 1)
    first = create(domain["id"], "dns")  # three tasks
    second = create(domain["id"], "ssl")
    assert release.release_once(1, sink) == 1
    assert release.release_once(10, sink) == 2  # the rest of the started scan; the second scan waits
    assert sink.scans() == {first["id"]}
    assert [t.status for t in task_rows(second["id"])] == ["queued"]
    _finish(first["id"])
    assert release.release_once(10, sink) == 1 and sink.scans() == {first["id"], second["id"]}


def test_ten_running_scans_per_workspace_and_the_setting(client, tenant, other_tenant, create, sink):
    scans = [create(_asset(client, tenant, n)["id"], "ssl") for n in range(12)]
    other = verified_asset(client, other_tenant, "other.example.com", "domain")
    r = client.post(SCANS, json={"asset_id": other["id"], "scan_type": "ssl"}, headers=other_tenant.headers())
    assert r.status_code == 201
    assert release.release_once(100, sink) == 11  # 10 of this workspace + the other workspace's scan
    waiting = [s["id"] for s in scans if task_rows(s["id"])[0].status == "queued"]
    assert waiting == [scans[10]["id"], scans[11]["id"]]  # the oldest ten went first
    _finish(scans[0]["id"])
    assert release.release_once(100, sink) == 1 and task_rows(scans[10]["id"])[0].status == "dispatched"
    with unit_of_work() as s:
        ws = s.get(Workspace, tenant.workspace_id)
        ws.settings = {**ws.settings, "max_running_scans": 12}
    assert release.release_once(100, sink) == 1


def test_tasks_of_finished_scans_are_cancelled_not_released(client, tenant, create, sink):
    scan = create(_asset(client, tenant, 1)["id"], "ssl")
    set_scan(scan["id"], status="failed", finished_at=utcnow())
    assert release.release_once(10, sink) == 0  # nothing to run...
    assert [t.status for t in task_rows(scan["id"])] == ["cancelled"]  # ...and nothing left dangling
    assert sink.items == []


def test_wake_after_commit_is_set_by_scan_creation(client, tenant, create):
    release.WAKE.clear()
    create(_asset(client, tenant, 1)["id"], "ssl")
    assert release.WAKE.is_set()


def test_a_long_waiting_scan_does_not_hide_runnable_tasks_behind_it(client, tenant, create, sink):
    net = verified_asset(client, tenant, "198.48.0.0/14", "network")
    running = create(net["id"], "port", options={"ports": "80"})
    assert release.release_once(1, sink) == 1  # its first chunk goes: the scan now holds the asset
    set_scan(running["id"], status="running")
    waiting = create(net["id"], "port", options={"ports": "80"})  # 1,024 chunks that must wait for the asset
    assert len(task_rows(waiting["id"])) == 1024
    set_tasks(running["id"], status="completed")  # the first scan's tasks are done but the scan is not over yet
    other = create(_asset(client, tenant, 1)["id"], "ssl")
    assert release.release_once(1, sink) == 1
    assert sink.items[-1].task_id == task_rows(other["id"])[0].id
