"""Service-level finding fixtures: a workspace, an asset and a session in which the test plays the unit of work."""

from __future__ import annotations

import pytest
from s4e_platform.asset.models import Asset
from s4e_platform.db.session import new_session
from s4e_platform.kit.ids import new_id
from s4e_platform.scanners.base import FindingCandidate, Location


@pytest.fixture
def db(tenant):
    session = new_session()
    yield session
    session.rollback()
    session.close()


def make_asset(session, workspace_id: str, name: str = "app.example.com", **fields) -> Asset:
    asset = Asset(id=new_id("ast"), workspace_id=workspace_id, name=name, type=fields.pop("type", "domain"),
                  verification_token="t" * 32, **fields)
    session.add(asset)
    session.flush()
    return asset


@pytest.fixture
def asset(db, tenant) -> Asset:
    return make_asset(db, tenant.workspace_id)


def candidate(check_id: str = "tls.weak_protocol", *, port: int = 443, severity: str = "medium",
              evidence: dict | None = None, **loc) -> FindingCandidate:
    location = Location(host=loc.pop("host", "app.example.com"), ip=loc.pop("ip", "203.0.113.10"), port=port,
                        protocol=loc.pop("protocol", "tcp"), **loc)
    return FindingCandidate(check_id=check_id, title=f"{check_id} issue", severity=severity, description="d",
                            remediation="r", category="tls", location=location, evidence=evidence or {})
