"""Scan test helpers: verified assets, scans created through the API, direct row updates standing in for the
execution runtime (tasks do not run in these tests)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from s4e_platform.db.session import unit_of_work
from s4e_platform.event.models import Event
from s4e_platform.scan.models import Scan, ScanTask
from sqlalchemy import select, update

from tests.fixtures.asset import create_asset

SCANS = "/api/v1/scans"


def verified_asset(client, tenant, name: str = "example.com", type: str = "domain", **fields) -> dict:
    asset = create_asset(client, tenant, name, type, **fields)
    r = client.post(f"/api/v1/assets/{asset['id']}/verification/override",
                    json={"reason": "vouched for by the scan tests"}, headers=tenant.headers())
    assert r.status_code == 200, r.text
    return r.json()["data"]


def set_scan(scan_id: str, **values) -> None:
    with unit_of_work() as s:
        s.execute(update(Scan).where(Scan.id == scan_id).values(**values))


def set_tasks(scan_id: str, where: Callable | None = None, **values) -> None:
    with unit_of_work() as s:
        stmt = update(ScanTask).where(ScanTask.scan_id == scan_id)
        if where is not None:
            stmt = stmt.where(where)
        s.execute(stmt.values(**values))


def task_rows(scan_id: str) -> list[ScanTask]:
    with unit_of_work(readonly=True) as s:
        rows = s.execute(select(ScanTask).where(ScanTask.scan_id == scan_id)
                         .order_by(ScanTask.created_at, ScanTask.id)).scalars().all()
        s.expunge_all()
    return list(rows)


def events_of(name: str) -> list[Event]:
    with unit_of_work(readonly=True) as s:
        rows = s.execute(select(Event).where(Event.event == name).order_by(Event.seq)).scalars().all()
        s.expunge_all()
    return list(rows)


def scan_count() -> int:
    with unit_of_work(readonly=True) as s:
        return len(s.execute(select(Scan.id)).all())


@pytest.fixture
def domain(client, tenant) -> dict:
    return verified_asset(client, tenant)


@pytest.fixture
def create(client, tenant) -> Callable[..., dict]:
    """POST /scans that must succeed; returns the scan."""

    def run(asset_id: str, scan_type: str = "ssl", headers: dict | None = None, **body) -> dict:
        r = client.post(SCANS, json={"asset_id": asset_id, "scan_type": scan_type, **body},
                        headers=headers or tenant.headers())
        assert r.status_code == 201, r.text
        assert r.headers["location"] == f"{SCANS}/{r.json()['data']['id']}"
        return r.json()["data"]

    return run
