"""Periodic jobs of the scheduler: accepted-risk expiry and the daily SLA breach pass (scanning.md 6.4, 6.7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from s4e_platform.asset.models import Asset
from s4e_platform.db.session import unit_of_work
from s4e_platform.event.models import Event
from s4e_platform.finding import ingest, lifecycle
from s4e_platform.finding.models import Finding, FindingHistory
from s4e_platform.kit.clock import utcnow
from s4e_platform.scan_profile import jobs
from s4e_platform.scanners.base import FindingCandidate, Location
from sqlalchemy import select

from tests.scan_profile.conftest import make_asset

USER = {"type": "user", "id": None, "name": "tester"}


def candidate(check_id: str, severity: str = "high") -> FindingCandidate:
    return FindingCandidate(check_id=check_id, title=f"{check_id} issue", severity=severity, description="d",
                            remediation="r", category="tls", location=Location(host="example.com", port=443))


@pytest.fixture
def findings(client, tenant) -> dict[str, str]:
    asset = make_asset(client, tenant, "example.com")
    with unit_of_work() as s:
        row = s.get(Asset, asset["id"])
        ingest.ingest(s, workspace_id=tenant.workspace_id, asset=row, scanner="tls", scan_id=None, task_id=None,
                      candidates=[candidate(c) for c in ("a", "b", "c", "d", "e")])
        by_check = {f.check_id: f for f in s.execute(select(Finding)).scalars()}
        past, future = utcnow() - timedelta(days=1), utcnow() + timedelta(days=10)
        by_check["a"].sla_due_at = past  # breached now
        by_check["b"].sla_due_at = past
        by_check["b"].status = "resolved"  # not active: never breached
        by_check["c"].sla_due_at = future
        by_check["d"].sla_due_at, by_check["d"].sla_breached = past, True  # already reported
        lifecycle.change_status(s, by_check["e"], status="accepted_risk", actor=USER,
                                justification="compensating control in place", expires_at=utcnow() + timedelta(days=1))
        return {k: f.id for k, f in by_check.items()}


def _events(name: str) -> list[Event]:
    with unit_of_work(readonly=True) as s:
        return list(s.execute(select(Event).where(Event.event == name).order_by(Event.seq)).scalars())


def test_sla_breach_marks_and_reports_each_finding_once(findings):
    assert jobs.mark_sla_breaches(utcnow()) == 1
    with unit_of_work(readonly=True) as s:
        breached = {f.id for f in s.execute(select(Finding).where(Finding.sla_breached.is_(True))).scalars()}
        history = s.execute(select(FindingHistory).where(FindingHistory.field == "sla_breached")).scalars().all()
    assert breached == {findings["a"], findings["d"]}
    [event] = _events("finding.updated")
    assert event.data["changes"] == ["sla_breached"] and event.data["finding"]["id"] == findings["a"]
    assert event.actor["type"] == "system" and event.asset_id is not None
    assert [h.finding_id for h in history] == [findings["a"]]
    assert jobs.mark_sla_breaches(utcnow()) == 0
    assert len(_events("finding.updated")) == 1
    # Later, the next finding's due time passes.
    assert jobs.mark_sla_breaches(utcnow() + timedelta(days=11)) == 1


def test_sla_breach_works_in_batches(findings, monkeypatch):
    monkeypatch.setattr(jobs, "BATCH", 1)
    assert jobs.mark_sla_breaches(utcnow() + timedelta(days=11)) == 2  # a and c
    assert len(_events("finding.updated")) == 2


def test_jobs_run_once_per_period(findings):
    now = utcnow() + timedelta(days=2)
    assert jobs.run_due(now) == {"finding.expire_accepted_risk": 1, "finding.sla_breach": 1}
    with unit_of_work(readonly=True) as s:
        assert s.get(Finding, findings["e"]).status == "open"
    assert jobs.run_due(now + timedelta(seconds=30)) == {}
    assert jobs.run_due(now + timedelta(minutes=1)) == {"finding.expire_accepted_risk": 0}
    assert jobs.run_due(now + timedelta(days=1)) == {"finding.expire_accepted_risk": 0, "finding.sla_breach": 0}


def test_a_failing_job_is_retried_after_a_pause():
    calls: list = []

    def broken(now):
        calls.append(now)
        raise RuntimeError("boom")

    job = (jobs.Job("test.broken", timedelta(days=1), broken),)
    now = utcnow()
    assert jobs.run_due(now, job) == {}
    assert jobs.run_due(now + timedelta(minutes=1), job) == {} and len(calls) == 1
    jobs.run_due(now + timedelta(minutes=5), job)
    assert len(calls) == 2
