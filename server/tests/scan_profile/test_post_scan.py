"""Post-scan actions evaluated when a profile's scan ends (scanning.md 3), and the automation hook."""

from __future__ import annotations

from datetime import timedelta

import pytest
from s4e_platform.asset.models import Asset
from s4e_platform.db.session import unit_of_work
from s4e_platform.finding import ingest
from s4e_platform.finding.models import Finding
from s4e_platform.kit.clock import utcnow
from s4e_platform.scan import progress
from s4e_platform.scan.models import Scan, ScanTask
from s4e_platform.scan_profile import post_scan
from s4e_platform.scanners.base import FindingCandidate, Location
from sqlalchemy import select, update

from tests.scan_profile.conftest import API, make_asset, make_profile

PLAYBOOK = "pbk_01hv8x5m3t9q4zc2n7k1r6pbde"
ACTIONS = [
    {"on": "new_findings", "conditions": {"min_severity": "high"}, "playbook_id": PLAYBOOK},
    {"on": "new_findings", "conditions": {"categories": ["dns"]}, "action_ref": "never.matches"},
    {"on": "completed", "action_ref": "slack.notify", "parameters": {"text": "done"}},
    {"on": "failed", "action_ref": "pagerduty.trigger"},
]


def candidate(check_id: str, severity: str, category: str = "tls") -> FindingCandidate:
    return FindingCandidate(check_id=check_id, title=check_id, severity=severity, description="d",
                            remediation="r", category=category, location=Location(host="example.com", port=443))


@pytest.fixture
def scan_id(client, tenant) -> str:
    """A queued scan of a profile with ACTIONS; an earlier scan left a high finding that is now resolved."""
    asset = make_asset(client, tenant, "example.com")
    with unit_of_work() as s:
        ingest.ingest(s, workspace_id=tenant.workspace_id, asset=s.get(Asset, asset["id"]), scanner="email_security",
                      scan_id=None, task_id=None, candidates=[candidate("old.high", "high")])
        s.execute(update(Finding).values(status="resolved", resolved_at=utcnow()))
    profile = make_profile(client, tenant, scope={"asset_ids": [asset["id"]]}, post_scan_actions=ACTIONS)
    r = client.post(f"{API}/scan-profiles/{profile['id']}/run", headers=tenant.headers())
    return r.json()["data"][0]["id"]


def detect(scan_id: str, candidates: list[FindingCandidate]) -> dict[str, str]:
    with unit_of_work() as s:
        scan = s.get(Scan, scan_id)
        ingest.ingest(s, workspace_id=scan.workspace_id, asset=s.get(Asset, scan.asset_id), scanner="email_security",
                      scan_id=scan.id, task_id=None, candidates=candidates)
        return {f.check_id: f.id for f in s.execute(select(Finding)).scalars()}


def finish(scan_id: str, task_status: str = "completed") -> Scan:
    """Every task ends; progress.refresh (the scan runtime) makes the scan terminal and calls the hook."""
    now = utcnow()
    with unit_of_work() as s:
        s.execute(update(ScanTask).where(ScanTask.scan_id == scan_id).values(
            status=task_status, started_at=now - timedelta(seconds=5), finished_at=now))
        return progress.refresh(s, scan_id)


@pytest.fixture
def handler():
    calls: list[tuple] = []

    def automation(session, scan, action, findings):
        calls.append((scan.id, action.get("playbook_id") or action.get("action_ref"), [f.id for f in findings]))
        return {"status": "queued", "reason": None}

    post_scan.register_handler(automation)
    yield calls
    post_scan.unregister_handler(automation)


def test_without_an_engine_actions_are_recorded_pending(scan_id):
    ids = detect(scan_id, [candidate("old.high", "high"), candidate("new.critical", "critical"),
                           candidate("new.low", "low")])
    scan = finish(scan_id)
    assert scan.status == "completed"
    recorded = {(a["target"].get("playbook_id") or a["target"]["action_ref"]): a for a in scan.post_actions}
    assert set(recorded) == {PLAYBOOK, "slack.notify"}
    new = recorded[PLAYBOOK]
    # The reopened high finding counts as new for the scan; the low one fails min_severity.
    assert new["on"] == "new_findings" and new["matched_findings"] == [ids["new.critical"], ids["old.high"]]
    assert new["status"] == "pending" and new["reason"] == "automation engine not installed"
    assert recorded["slack.notify"]["matched_findings"] == [ids["new.critical"], ids["old.high"], ids["new.low"]]


def test_a_registered_handler_receives_the_actions(scan_id, handler):
    ids = detect(scan_id, [candidate("new.high", "high")])
    scan = finish(scan_id)
    assert [(c[1], c[2]) for c in handler] == [(PLAYBOOK, [ids["new.high"]]), ("slack.notify", [ids["new.high"]])]
    assert all(c[0] == scan_id for c in handler)
    assert [a["status"] for a in scan.post_actions] == ["queued", "queued"]
    with unit_of_work() as s:  # evaluated once: a second call changes nothing
        post_scan.on_scan_finished(s, s.get(Scan, scan_id))
    assert len(handler) == 2


def test_failed_scan_fires_failed_actions_only(scan_id, handler):
    scan = finish(scan_id, "failed")
    assert scan.status == "failed"
    assert [(a["on"], a["target"]) for a in scan.post_actions] == [("failed", {"action_ref": "pagerduty.trigger"})]


def test_no_new_findings_no_new_findings_action(scan_id, handler):
    scan = finish(scan_id)
    assert [a["on"] for a in scan.post_actions] == ["completed"]


def test_conditions():
    f = Finding(severity="medium", category="tls", kev=True)
    assert post_scan.matches(f, {}) and post_scan.matches(f, {"min_severity": "medium"})
    assert not post_scan.matches(f, {"min_severity": "high"})
    assert post_scan.matches(f, {"categories": ["dns", "tls"]}) and not post_scan.matches(f, {"categories": ["dns"]})
    assert post_scan.matches(f, {"kev": True}) and not post_scan.matches(f, {"kev": False})


def test_a_failing_handler_is_recorded_and_does_not_break_the_scan(scan_id):
    def broken(session, scan, action, findings):
        raise RuntimeError("engine down")

    post_scan.register_handler(broken)
    try:
        scan = finish(scan_id)
    finally:
        post_scan.unregister_handler(broken)
    assert scan.status == "completed"
    assert [(a["status"], a["reason"]) for a in scan.post_actions] == [("failed", "RuntimeError: engine down")]
