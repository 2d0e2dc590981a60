"""PATCH /findings/{id}, status changes and assignment (single and bulk) with their history and events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from s4e_platform.asset.models import Asset
from s4e_platform.db.session import unit_of_work
from s4e_platform.finding.models import FindingHistory
from s4e_platform.kit.clock import isoformat, utcnow
from sqlalchemy import select

from tests.finding.api_helpers import API, events_of, make_asset, row, seed

WHY = "compensating control in place at the WAF"


@pytest.fixture
def asset_id(tenant):
    return make_asset(tenant.workspace_id, "app.example.com", criticality="high")


def history(finding_id: str) -> list[tuple]:
    with unit_of_work(readonly=True) as s:
        return [(h.field, h.from_value, h.to_value, h.justification) for h in s.execute(
            select(FindingHistory).where(FindingHistory.finding_id == finding_id).order_by(FindingHistory.id))
            .scalars()]


def updated_events(tenant) -> list[dict]:
    return [e.data for e in events_of(tenant.workspace_id, "finding.updated")]


def test_severity_override_recomputes_and_clearing_returns_to_scanner_severity(client, tenant, asset_id):
    fid, = seed(tenant.workspace_id, asset_id, "tls.old", severity="medium")
    before = row(fid)
    r = client.patch(f"{API}/findings/{fid}", headers=tenant.headers(),
                     json={"severity_override": "critical", "severity_justification": WHY})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["severity"], data["original_severity"], data["severity_reason"]) == ("critical", "medium", WHY)
    after = row(fid)
    assert after.risk_score > before.risk_score  # 9.5 x 1.0 vs 5.0 x 1.0
    assert after.sla_due_at < before.sla_due_at  # 7 days instead of 90
    assert after.sla_due_at == after.discovered_at + timedelta(days=7)
    with unit_of_work(readonly=True) as s:
        asset = s.get(Asset, asset_id)
        assert asset.finding_summary["critical"] == 1 and asset.finding_summary["medium"] == 0
    assert history(fid) == [("severity", "medium", "critical", WHY)]
    [event] = updated_events(tenant)
    assert event["changes"] == ["severity"] and event["finding"]["severity"] == "critical"
    r = client.patch(f"{API}/findings/{fid}", headers=tenant.headers(), json={"severity_override": None})
    assert r.status_code == 200 and r.json()["data"]["severity"] == "medium"
    assert r.json()["data"]["severity_override"] is None and row(fid).risk_score == before.risk_score
    assert len(updated_events(tenant)) == 2


@pytest.mark.parametrize("body", [
    {"severity_override": "high"},
    {"severity_override": "high", "severity_justification": "too short"},
    {"severity_override": "high", "severity_justification": "x" * 2001},
    {"severity_justification": "no override given here"},
    {"severity_override": "urgent", "severity_justification": WHY},
    {"tags": ["Not A Tag!"]},
    {"due_date": "tomorrow"},
    {"colour": "red"},
])
def test_bad_patch_is_422_and_changes_nothing(client, tenant, asset_id, body):
    fid, = seed(tenant.workspace_id, asset_id, "tls.old")
    r = client.patch(f"{API}/findings/{fid}", headers=tenant.headers(), json=body)
    assert r.status_code == 422, r.text
    assert row(fid).severity == "medium" and history(fid) == [] and updated_events(tenant) == []


def test_tags_and_due_date(client, tenant, asset_id):
    fid, = seed(tenant.workspace_id, asset_id, "tls.old")
    r = client.patch(f"{API}/findings/{fid}", headers=tenant.headers(),
                     json={"tags": ["PCI", "pci", "team:web"], "due_date": "2027-01-31"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["tags"] == ["pci", "team:web"] and r.json()["data"]["due_date"] == "2027-01-31"
    assert updated_events(tenant)[0]["changes"] == ["tags", "due_date"]
    again = client.patch(f"{API}/findings/{fid}", headers=tenant.headers(), json={"tags": ["pci", "team:web"]})
    assert again.status_code == 200 and len(updated_events(tenant)) == 1  # nothing changed, no event
    assert client.patch(f"{API}/findings/{fid}", headers=tenant.headers("viewer"), json={"tags": []}).status_code \
        == 403


def test_status_change_history_event_and_noop(client, tenant, asset_id):
    fid, = seed(tenant.workspace_id, asset_id, "tls.old")
    h = tenant.headers("analyst")
    r = client.post(f"{API}/findings/{fid}/status", headers=h, json={"status": "confirmed"})
    assert r.status_code == 200 and r.json()["data"]["status"] == "confirmed"
    assert client.post(f"{API}/findings/{fid}/status", headers=h, json={"status": "confirmed"}).status_code == 200
    events = events_of(tenant.workspace_id, "finding.status_changed")
    assert [(e.data["old_status"], e.data["new_status"]) for e in events] == [("open", "confirmed")]
    assert events[0].actor["type"] == "api_key"
    r = client.post(f"{API}/findings/{fid}/status", headers=h, json={"status": "resolved"})
    assert r.json()["data"]["resolution"] == "fixed"
    assert [e.data["new_status"] for e in events_of(tenant.workspace_id, "finding.resolved")] == ["resolved"]
    assert [x[:3] for x in history(fid)] == [("status", "open", "confirmed"), ("status", "confirmed", "resolved")]


def test_invalid_transition_and_justification_rules(client, tenant, asset_id):
    fid, = seed(tenant.workspace_id, asset_id, "tls.old")
    h = tenant.headers()
    r = client.post(f"{API}/findings/{fid}/status", headers=h, json={"status": "reopened"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_transition"
    r = client.post(f"{API}/findings/{fid}/status", headers=h, json={"status": "false_positive"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.justification"
    r = client.post(f"{API}/findings/{fid}/status", headers=h,
                    json={"status": "accepted_risk", "justification": WHY,
                          "expires_at": isoformat(utcnow() + timedelta(days=400))})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.expires_at"
    assert row(fid).status == "open" and history(fid) == []
    until = utcnow() + timedelta(days=30)
    r = client.post(f"{API}/findings/{fid}/status", headers=h,
                    json={"status": "accepted_risk", "justification": WHY, "expires_at": isoformat(until)})
    assert r.status_code == 200 and r.json()["data"]["accepted_until"] == isoformat(until)
    assert r.json()["data"]["justification"] == WHY and r.json()["data"]["sla_due_at"] is None  # clock paused
    [event] = events_of(tenant.workspace_id, "finding.status_changed")
    assert event.data["justification"] == WHY and event.data["accepted_until"] == isoformat(until)


def test_bulk_status_is_all_or_nothing(client, tenant, asset_id):
    ids = seed(tenant.workspace_id, asset_id, "a", "b", "c")
    h = tenant.headers()
    client.post(f"{API}/findings/{ids[2]}/status", headers=h, json={"status": "resolved"})
    r = client.post(f"{API}/findings/bulk-status", headers=h, json={"ids": ids, "status": "in_progress"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_transition"
    assert r.json()["error"]["details"]["ids"] == [ids[2]]
    assert [row(i).status for i in ids] == ["open", "open", "resolved"]
    r = client.post(f"{API}/findings/bulk-status", headers=h, json={"ids": ids[:2], "status": "false_positive"})
    assert r.status_code == 422 and [row(i).status for i in ids[:2]] == ["open", "open"]  # no justification
    client.post(f"{API}/findings/{ids[1]}/status", headers=h, json={"status": "in_progress"})
    r = client.post(f"{API}/findings/bulk-status", headers=h, json={"ids": ids[:2], "status": "in_progress"})
    assert r.status_code == 200 and r.json()["data"] == {"matched": 2, "changed": 1, "unchanged": 1}
    assert [row(i).status for i in ids] == ["in_progress", "in_progress", "resolved"]
    assert len(events_of(tenant.workspace_id, "finding.status_changed")) == 2


def test_bulk_status_by_filter_and_bad_selections(client, tenant, asset_id, monkeypatch):
    ids = seed(tenant.workspace_id, asset_id, "a", "b", severity="low")
    high, = seed(tenant.workspace_id, asset_id, "c", severity="high")
    h = tenant.headers()
    r = client.post(f"{API}/findings/bulk-status", headers=h,
                    json={"filter": {"severity": ["low"]}, "status": "confirmed"})
    assert r.status_code == 200 and r.json()["data"] == {"matched": 2, "changed": 2, "unchanged": 0}
    assert [row(i).status for i in ids] == ["confirmed", "confirmed"] and row(high).status == "open"
    from s4e_platform.finding import service

    monkeypatch.setattr(service, "MAX_FILTER_SELECTION", 2)
    r = client.post(f"{API}/findings/bulk-status", headers=h, json={"filter": {}, "status": "confirmed"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.filter"
    assert row(high).status == "open"
    bad = [{"status": "confirmed"}, {"ids": ids, "filter": {}, "status": "confirmed"}, {"ids": [], "status": "open"},
           {"ids": ids + ["fnd_01hv8x5m3t9q4zc2n7k1r6pbde"], "status": "open"}, {"ids": ["nope"], "status": "open"},
           {"filter": {"severity": "urgent"}, "status": "open"}, {"ids": ["x"] * 1001, "status": "open"}]
    for body in bad:
        r = client.post(f"{API}/findings/bulk-status", headers=h, json=body)
        assert r.status_code == 422, (body, r.text)
    assert [row(i).status for i in ids] == ["confirmed", "confirmed"]


def test_assign_requires_a_member(client, tenant, other_tenant, asset_id):
    fid, = seed(tenant.workspace_id, asset_id, "tls.old")
    h = tenant.headers()
    r = client.post(f"{API}/findings/{fid}/assign", headers=h, json={"assignee_id": other_tenant.users["admin"]})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["code"] == "not_a_member"
    r = client.post(f"{API}/findings/{fid}/assign", headers=h,
                    json={"assignee_id": tenant.users["analyst"], "due_date": "2027-02-01"})
    assert r.status_code == 200, r.text
    assert (r.json()["data"]["assignee_id"], r.json()["data"]["due_date"]) == (tenant.users["analyst"], "2027-02-01")
    r = client.post(f"{API}/findings/{fid}/assign", headers=h, json={"assignee_id": None})
    assert r.json()["data"]["assignee_id"] is None and r.json()["data"]["due_date"] == "2027-02-01"
    assert [e["changes"] for e in updated_events(tenant)] == [["assignee", "due_date"], ["assignee"]]
    assert [x[0] for x in history(fid)] == ["assignee", "due_date", "assignee"]


def test_bulk_assign(client, tenant, other_tenant, asset_id):
    ids = seed(tenant.workspace_id, asset_id, "a", "b", "c")
    h = tenant.headers()
    r = client.post(f"{API}/findings/bulk-assign", headers=h,
                    json={"ids": ids, "assignee_id": other_tenant.users["viewer"]})
    assert r.status_code == 422 and all(row(i).assignee_id is None for i in ids)
    client.post(f"{API}/findings/{ids[0]}/assign", headers=h, json={"assignee_id": tenant.users["viewer"]})
    r = client.post(f"{API}/findings/bulk-assign", headers=h,
                    json={"filter": {"asset_id": asset_id}, "assignee_id": tenant.users["viewer"]})
    assert r.status_code == 200 and r.json()["data"] == {"matched": 3, "changed": 2, "unchanged": 1}
    listed = client.get(f"{API}/findings?assignee_id={tenant.users['viewer']}", headers=h).json()
    assert listed["meta"]["total"] == 3
    assert len(updated_events(tenant)) == 3
