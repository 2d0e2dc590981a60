"""Severity rules and risk weights follow asset and workspace changes made through the API (scanning.md 6.8)."""

from s4e_platform.asset.models import Asset
from s4e_platform.db.session import unit_of_work
from s4e_platform.event.models import Event
from s4e_platform.finding.ingest import ingest
from s4e_platform.finding.models import Finding, FindingHistory
from sqlalchemy import select

from tests.finding.conftest import candidate
from tests.fixtures.asset import create_asset


def _seed(asset_id: str) -> None:
    with unit_of_work() as s:
        row = s.get(Asset, asset_id)
        ingest(s, workspace_id=row.workspace_id, asset=row, scanner="tls", scan_id=None, task_id=None,
               candidates=[candidate("tls.a", severity="medium", host=row.name),
                           candidate("tls.b", severity="high", port=8443, host=row.name),
                           candidate("tls.c", severity="info", port=8444, host=row.name)])


def _findings(asset_id: str) -> dict[str, Finding]:
    with unit_of_work(readonly=True) as s:
        rows = s.execute(select(Finding).where(Finding.asset_id == asset_id)).scalars().all()
        return {f.check_id: {"severity": f.severity, "reason": f.severity_reason, "risk": f.risk_score,
                             "original": f.original_severity} for f in rows}


def _updated_events() -> list[dict]:
    with unit_of_work(readonly=True) as s:
        return [e.data for e in s.execute(select(Event).where(Event.event == "finding.updated")).scalars()]


def test_crown_jewel_tag_raises_and_removal_lowers_back(client, tenant):
    asset = create_asset(client, tenant, name="crown.example.com")
    _seed(asset["id"])
    before = _findings(asset["id"])
    assert before["tls.a"]["severity"] == "medium" and before["tls.b"]["severity"] == "high"
    h = tenant.headers()
    r = client.patch(f"/api/v1/assets/{asset['id']}", json={"tags": ["crown-jewel"]}, headers=h)
    assert r.status_code == 200
    after = _findings(asset["id"])
    assert after["tls.a"] == {"severity": "high", "reason": "crown-jewels", "risk": after["tls.a"]["risk"],
                              "original": "medium"}
    assert after["tls.b"]["severity"] == "critical" and after["tls.c"]["severity"] == "info"
    assert after["tls.b"]["risk"] > before["tls.b"]["risk"]
    events = _updated_events()
    assert sorted(e["finding"]["severity"] for e in events) == ["critical", "high"]
    assert all(e["changes"] == ["severity"] for e in events)
    # The asset's scores follow: one critical now.
    detail = client.get(f"/api/v1/assets/{asset['id']}", headers=h).json()["data"]
    assert detail["finding_summary"]["critical"] == 1 and detail["risk_score"] == after["tls.b"]["risk"]

    client.patch(f"/api/v1/assets/{asset['id']}", json={"tags": []}, headers=h)
    assert {k: v["severity"] for k, v in _findings(asset["id"]).items()} == {"tls.a": "medium", "tls.b": "high",
                                                                              "tls.c": "info"}
    with unit_of_work(readonly=True) as s:
        history = s.execute(select(FindingHistory.from_value, FindingHistory.to_value)
                            .where(FindingHistory.field == "severity")).all()
    assert sorted(history) == sorted([("medium", "high"), ("high", "critical"), ("high", "medium"),
                                      ("critical", "high")])


def test_criticality_change_moves_risk_without_events(client, tenant):
    asset = create_asset(client, tenant, name="plain.example.com")
    _seed(asset["id"])
    before = _findings(asset["id"])
    r = client.patch(f"/api/v1/assets/{asset['id']}", json={"criticality": "high"}, headers=tenant.headers())
    assert r.status_code == 200
    after = _findings(asset["id"])
    assert after["tls.b"]["severity"] == "high" and after["tls.b"]["risk"] > before["tls.b"]["risk"]
    assert _updated_events() == []


def test_workspace_rule_change_reclassifies_every_asset(client, tenant):
    a = create_asset(client, tenant, name="one.example.com")
    b = create_asset(client, tenant, name="two.example.com")
    _seed(a["id"])
    _seed(b["id"])
    rules = [{"id": "all-up", "when_asset": {}, "severities": ["medium"], "action": {"set": "critical"}}]
    r = client.patch(f"/api/v1/workspaces/{tenant.workspace_id}", json={"settings": {"severity_rules": rules}},
                     headers=tenant.headers())
    assert r.status_code == 200, r.text
    for asset in (a, b):
        f = _findings(asset["id"])
        assert f["tls.a"]["severity"] == "critical" and f["tls.a"]["reason"] == "all-up"
        assert f["tls.b"]["severity"] == "high"
    assert len(_updated_events()) == 2


def test_paused_sla_clock_follows_the_new_severity(client, tenant):
    asset = create_asset(client, tenant, name="paused.example.com")
    _seed(asset["id"])
    with unit_of_work() as s:
        f = s.execute(select(Finding).where(Finding.asset_id == asset["id"], Finding.check_id == "tls.a")).scalar_one()
        fid = f.id
    r = client.post(f"/api/v1/findings/{fid}/status", json={"status": "accepted_risk",
                                                            "justification": "compensating control in place"},
                    headers=tenant.headers())
    assert r.status_code == 200, r.text
    with unit_of_work(readonly=True) as s:
        before = s.get(Finding, fid).sla_paused_remaining
    client.patch(f"/api/v1/assets/{asset['id']}", json={"tags": ["crown-jewel"]}, headers=tenant.headers())
    with unit_of_work(readonly=True) as s:
        f = s.get(Finding, fid)
        # medium (90 days) -> high (30 days): the clock stays stopped, with the high deadline's remainder.
        assert (f.severity, f.sla_due_at) == ("high", None)
        assert f.sla_paused_remaining < before - 59 * 86400
