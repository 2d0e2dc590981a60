"""Scan profile test helpers: assets and profiles through the API, and a clock the scheduler tests choose."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from s4e_platform.db.session import unit_of_work
from s4e_platform.scan.models import Scan
from s4e_platform.scan_profile.models import ScanFire, ScanProfile
from sqlalchemy import select

from tests.fixtures.asset import create_asset

API = "/api/v1"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def make_asset(client, tenant, name: str, type: str = "domain", *, verified: bool = False, **fields) -> dict:
    asset = create_asset(client, tenant, name, type, **fields)
    if verified:
        r = client.post(f"{API}/assets/{asset['id']}/verification/override",
                        json={"reason": "profile tests: vouched for by the test"}, headers=tenant.headers())
        assert r.status_code == 200, r.text
    return asset


def make_profile(client, tenant, name: str = "weekly", **fields) -> dict:
    body = {"name": name, "scan_type": "custom", "scanners": ["email_security"], **fields}
    r = client.post(f"{API}/scan-profiles", json=body, headers=tenant.headers())
    assert r.status_code == 201, r.text
    return r.json()["data"]


def set_profile(profile_id: str, **values) -> None:
    with unit_of_work() as s:
        profile = s.get(ScanProfile, profile_id)
        for key, value in values.items():
            setattr(profile, key, value)


def load_profile(profile_id: str) -> ScanProfile:
    with unit_of_work(readonly=True) as s:
        return s.get(ScanProfile, profile_id)


def fires(profile_id: str) -> list[ScanFire]:
    with unit_of_work(readonly=True) as s:
        return list(s.execute(select(ScanFire).where(ScanFire.profile_id == profile_id)
                              .order_by(ScanFire.scheduled_at, ScanFire.id)).scalars())


def scans_of(profile_id: str) -> list[Scan]:
    with unit_of_work(readonly=True) as s:
        return list(s.execute(select(Scan).where(Scan.profile_id == profile_id).order_by(Scan.id)).scalars())


@pytest.fixture
def domain(client, tenant) -> dict:
    return make_asset(client, tenant, "example.com", tags=["production"])
