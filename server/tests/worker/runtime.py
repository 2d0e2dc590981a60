"""Helpers of the task runtime tests: a planted target, scans through the API, direct reads of the results."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from s4e_platform.db.session import unit_of_work
from s4e_platform.finding.models import Finding, FindingSighting
from s4e_platform.inventory.models import Service
from s4e_platform.scan import runner
from s4e_platform.scan.models import Scan, ScanTask
from sqlalchemy import func, select

from tests.worker.peers import RedisPeer


@pytest.fixture
def peer():
    p = RedisPeer()
    yield p
    p.close()


@pytest.fixture
def loopback(settings):
    """Platform workers scan public addresses only; the allowlist lets them reach the planted loopback peers."""
    settings.outbound_allowlist = "127.0.0.0/8"
    return settings


def scan_row(scan_id: str) -> Scan:
    with unit_of_work(readonly=True) as s:
        row = s.get(Scan, scan_id)
        s.expunge_all()
    return row


def task_of(scan_id: str) -> ScanTask:
    with unit_of_work(readonly=True) as s:
        [row] = s.execute(select(ScanTask).where(ScanTask.scan_id == scan_id)).scalars().all()
        s.expunge_all()
    return row


def findings_of(asset_id: str) -> list[Finding]:
    with unit_of_work(readonly=True) as s:
        rows = s.execute(select(Finding).where(Finding.asset_id == asset_id).order_by(Finding.id)).scalars().all()
        s.expunge_all()
    return list(rows)


def sightings(finding_id: str) -> int:
    with unit_of_work(readonly=True) as s:
        return s.execute(select(func.count()).select_from(FindingSighting)
                         .where(FindingSighting.finding_id == finding_id)).scalar_one()


def services_of(asset_id: str) -> list[Service]:
    with unit_of_work(readonly=True) as s:
        rows = s.execute(select(Service).where(Service.asset_id == asset_id)).scalars().all()
        s.expunge_all()
    return list(rows)


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


class Background:
    """`runner.run_task` in a thread, for tests that act on a task while it runs."""

    def __init__(self, task_id: str, worker_id: str = "test-worker") -> None:
        self.result: str | None = None
        self.finished_at: float | None = None
        self.thread = threading.Thread(target=self._run, args=(task_id, worker_id), daemon=True)
        self.thread.start()

    def _run(self, task_id: str, worker_id: str) -> None:
        self.result = runner.run_task(task_id, worker_id=worker_id)
        self.finished_at = time.monotonic()

    def join(self, timeout: float = 30.0) -> str | None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the task did not stop"
        return self.result
