"""Workspaces: listing with my role, creation rules, settings validation, deletion of all data."""

from __future__ import annotations

from s4e_platform.asset.models import Asset, AssetTag
from s4e_platform.auth import service as auth_service
from s4e_platform.db.session import unit_of_work
from s4e_platform.event.models import Event
from s4e_platform.kit.ids import new_id
from s4e_platform.webhook.models import Delivery
from s4e_platform.workspace import service as workspace_service
from s4e_platform.workspace.models import Workspace
from sqlalchemy import func, select

from tests.fixtures.asset import create_asset
from tests.fixtures.workspace import console_headers, published

WS = "/api/v1/workspaces"


def test_list_shows_my_workspaces_with_my_role(client, tenant, other_tenant):
    with unit_of_work() as s:
        workspace_service.add_member(s, other_tenant.workspace_id, tenant.users["viewer"], "analyst")
    session = console_headers(tenant.users["viewer"])
    r = client.get(WS, params={"sort_by": "created_at", "sort_order": "asc"}, headers=session)
    assert r.status_code == 200
    assert [(w["id"], w["role"]) for w in r.json()["data"]] == [(tenant.workspace_id, "viewer"),
                                                                 (other_tenant.workspace_id, "analyst")]
    assert "settings" not in r.json()["data"][0]
    # A key sees only the workspace it is bound to.
    r = client.get(WS, headers=tenant.headers("viewer"))
    assert [w["id"] for w in r.json()["data"]] == [tenant.workspace_id] and r.json()["meta"]["total"] == 1
    assert client.get(WS).status_code == 401


def test_get_includes_settings_and_hides_other_workspaces(client, tenant, other_tenant):
    r = client.get(f"{WS}/{tenant.workspace_id}", headers=tenant.headers("viewer"))
    assert r.status_code == 200
    ws = r.json()["data"]
    assert ws["role"] == "viewer" and ws["settings"]["sla_days"]["critical"] == 7
    assert ws["settings"]["event_retention_days"] == 90 and ws["settings"]["auto_scan_new_services"] is True
    assert [rule["id"] for rule in ws["settings"]["severity_rules"]] == ["crown-jewels", "non-production"]
    # The tenant admin is an instance superuser: that grants nothing inside a workspace it is not a member of.
    assert client.get(f"{WS}/{other_tenant.workspace_id}", headers=tenant.headers()).status_code == 404
    assert client.get(f"{WS}/{other_tenant.workspace_id}",
                      headers=console_headers(tenant.users["admin"])).status_code == 404
    assert client.get(f"{WS}/wsp_01hv8x5m3t9q4zc2n7k1r6pbde", headers=tenant.headers()).status_code == 404
    assert client.get(f"{WS}/ast_01hv8x5m3t9q4zc2n7k1r6pbde", headers=tenant.headers()).status_code == 404


def test_session_path_workspace_decides_the_role(client, tenant, other_tenant):
    """A console user who is viewer in A and admin in B acts as admin in B's paths, whatever the default."""
    with unit_of_work() as s:
        workspace_service.add_member(s, other_tenant.workspace_id, tenant.users["viewer"], "admin")
    session = console_headers(tenant.users["viewer"])
    assert client.patch(f"{WS}/{tenant.workspace_id}", json={"name": "no"}, headers=session).status_code == 403
    r = client.patch(f"{WS}/{other_tenant.workspace_id}", json={"name": "Renamed"}, headers=session)
    assert r.status_code == 200 and r.json()["data"]["role"] == "admin"


def test_create_needs_superuser_unless_the_instance_allows_everyone(client, tenant, settings):
    r = client.post(WS, json={"name": "Team X"}, headers=tenant.headers("developer"))
    assert r.status_code == 403
    r = client.post(WS, json={"name": "Team X"}, headers=tenant.headers())  # tenant admin is a superuser
    assert r.status_code == 201, r.text
    made = r.json()["data"]
    assert made["role"] == "admin" and r.headers["location"] == f"{WS}/{made['id']}"
    assert client.get(f"{WS}/{made['id']}/members", headers=console_headers(tenant.users["admin"])).json()[
        "data"][0]["user_id"] == tenant.users["admin"]
    assert client.post(WS, json={"name": "  "}, headers=tenant.headers()).status_code == 422

    settings.allow_workspace_creation = True
    r = client.post(WS, json={"name": "Dev's own"}, headers=console_headers(tenant.users["developer"]))
    assert r.status_code == 201 and r.json()["data"]["role"] == "admin"


def test_patch_settings_merges_validates_and_audits(client, tenant):
    url = f"{WS}/{tenant.workspace_id}"
    rules = [{"id": "prod-up", "when_asset": {"tags_any": ["Prod"], "network_zone": ["external"]},
              "scanners": ["nuclei"], "severities": ["low"], "action": {"set": "medium"}},
             {"id": "lab-down", "enabled": False, "action": {"shift": -2}}]
    r = client.patch(url, json={"name": "Renamed", "settings": {
        "sla_days": {"critical": 3}, "risk_weights": {"exposure": {"internal": 0.5}},
        "severity_rules": rules, "event_retention_days": 30}}, headers=tenant.headers())
    assert r.status_code == 200, r.text
    st = r.json()["data"]["settings"]
    assert r.json()["data"]["name"] == "Renamed"
    assert st["sla_days"] == {"critical": 3, "high": 30, "medium": 90, "low": 120}
    assert st["risk_weights"]["exposure"] == {"external": 1.0, "internal": 0.5}
    assert st["risk_weights"]["kev_bonus"] == 15
    assert st["severity_rules"][0]["when_asset"]["tags_any"] == ["prod"]
    assert st["severity_rules"][1] == {"id": "lab-down", "enabled": False, "when_asset": {},
                                       "action": {"shift": -2}}
    assert st["event_retention_days"] == 30 and st["auto_scan_new_services"] is True

    changed = published(client, tenant.headers(), "audit.settings_changed")
    assert len(changed) == 1 and changed[0]["data"]["details"]["changes"] == [
        "name", "settings.event_retention_days", "settings.risk_weights", "settings.severity_rules",
        "settings.sla_days"]


def test_invalid_settings_are_422_and_change_nothing(client, tenant):
    url = f"{WS}/{tenant.workspace_id}"
    before = client.get(url, headers=tenant.headers()).json()["data"]
    ok_rule = {"id": "r1", "action": {"shift": 1}}
    cases = [
        ({"severity_rules": [{"id": "r", "action": {"shift": 1, "set": "high"}}]},
         "$.settings.severity_rules[0].action"),
        ({"severity_rules": [{"id": "r", "action": {"shift": 3}}]}, "$.settings.severity_rules[0].action.shift"),
        ({"severity_rules": [{"id": "r", "action": {"set": "severe"}}]}, "$.settings.severity_rules[0].action.set"),
        ({"severity_rules": [{"id": "r", "when_asset": {"criticality": ["huge"]}, "action": {"shift": 1}}]},
         "$.settings.severity_rules[0].when_asset.criticality[0]"),
        ({"severity_rules": [{"id": "r", "when_asset": {"owner": ["x"]}, "action": {"shift": 1}}]},
         "$.settings.severity_rules[0].when_asset.owner"),
        ({"severity_rules": [{"id": "Bad Id", "action": {"shift": 1}}]}, "$.settings.severity_rules[0].id"),
        ({"severity_rules": [ok_rule, ok_rule]}, "$.settings.severity_rules[1].id"),
        ({"severity_rules": [{"id": "r"}]}, "$.settings.severity_rules[0].action"),
        ({"event_retention_days": 0}, "$.settings.event_retention_days"),
        ({"event_retention_days": 3651}, "$.settings.event_retention_days"),
        ({"sla_days": {"critical": 0}}, "$.settings.sla_days.critical"),
        ({"sla_days": {"info": 3}}, "$.settings.sla_days.info"),
        ({"sla_days": None}, "$.settings.sla_days"),
        ({"risk_weights": {"kev_bonus": -1}}, "$.settings.risk_weights.kev_bonus"),
        ({"auto_scan_new_services": "yes"}, "$.settings.auto_scan_new_services"),
        ({"colour": "red"}, "$.settings.colour"),
    ]
    for settings_body, path in cases:
        r = client.patch(url, json={"name": "Changed", "settings": settings_body}, headers=tenant.headers())
        assert r.status_code == 422, (settings_body, r.text)
        assert path in [d["path"] for d in r.json()["error"]["details"]], (settings_body, r.json())
    assert client.get(url, headers=tenant.headers()).json()["data"] == before
    r = client.patch(url, json={"name": "x"}, headers=tenant.headers("developer"))
    assert r.status_code == 403 and r.json()["error"]["details"] == {"required": ["admin"]}


def test_delete_needs_the_exact_name_and_removes_all_data(client, tenant, other_tenant):
    parent = create_asset(client, tenant, name="example.com", tags=["prod"])
    create_asset(client, tenant, name="www.example.com", parent_id=parent["id"])
    kept = create_asset(client, other_tenant, name="kept.example.com")
    from s4e_platform.event import publisher

    publisher.drain()
    with unit_of_work() as s:  # a pending webhook delivery of one of its events
        s.add(Delivery(id=new_id("dlv"), workspace_id=tenant.workspace_id, target_id=new_id("whk"),
                       event_id=new_id("evt"), event="asset.created"))
    url = f"{WS}/{tenant.workspace_id}"
    assert client.delete(url, params={"confirm": "Workspace a"}, headers=tenant.headers("developer")).status_code == 403
    r = client.delete(url, params={"confirm": "workspace a"}, headers=tenant.headers())
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "query.confirm"
    assert client.get(url, headers=tenant.headers()).status_code == 200
    assert client.delete(url, headers=tenant.headers()).status_code == 400  # confirm is required

    assert client.delete(url, params={"confirm": "Workspace a"}, headers=tenant.headers()).status_code == 204
    with unit_of_work(readonly=True) as s:
        assert s.get(Workspace, tenant.workspace_id) is None
        for model in (Asset, AssetTag, Event, Delivery):
            n = s.execute(select(func.count()).select_from(model).where(
                model.workspace_id == tenant.workspace_id)).scalar_one()
            assert n == 0, model
        assert s.get(Asset, kept["id"]) is not None
    r = client.get("/api/v1/assets", headers=tenant.headers())
    assert r.status_code == 401  # its keys went with it
    # The users remain; the other workspace is untouched.
    with unit_of_work(readonly=True) as s:
        assert auth_service.user_by_email(s, tenant.emails["viewer"]) is not None
    assert client.get(f"/api/v1/assets/{kept['id']}", headers=other_tenant.headers()).status_code == 200
