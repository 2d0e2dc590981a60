"""Asset CRUD through the API."""

from tests.fixtures.asset import create_asset


def test_create_normalises_and_emits_event(client, tenant):
    from s4e_platform.event import publisher

    a = create_asset(client, tenant, name="Ex\u00e4mple.COM.", tags=["Prod", "web"])
    assert a["name"] == "xn--exmple-cua.com"
    assert a["tags"] == ["prod", "web"]
    assert a["status"] == "pending_verification" and a["verified"] is False
    assert publisher.drain() == 1
    r = client.get("/api/v1/events", headers=tenant.headers())
    assert r.status_code == 200
    assert [e["event"] for e in r.json()["data"]] == ["asset.created"]


def test_duplicate_is_conflict_and_changes_nothing(client, tenant):
    create_asset(client, tenant, name="10.0.0.1", type="ip")
    r = client.post("/api/v1/assets", json={"name": "10.0.0.1", "type": "ip"}, headers=tenant.headers())
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_exists"
    assert client.get("/api/v1/assets", headers=tenant.headers()).json()["meta"]["total"] == 1


def test_network_with_host_bits_is_422(client, tenant):
    r = client.post("/api/v1/assets", json={"name": "10.0.0.1/24", "type": "network"}, headers=tenant.headers())
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["path"] == "$.name"


def test_unknown_field_and_query_parameter(client, tenant):
    r = client.post("/api/v1/assets", json={"name": "a.com", "type": "domain", "colour": "red"},
                    headers=tenant.headers())
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.colour"
    r = client.get("/api/v1/assets?typo=1", headers=tenant.headers())
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_parameter"


def test_list_filters_sort_and_pages(client, tenant):
    for i in range(5):
        create_asset(client, tenant, name=f"h{i}.example.com", tags=["even"] if i % 2 == 0 else ["odd"],
                     criticality="high" if i == 4 else "low")
    h = tenant.headers()
    r = client.get("/api/v1/assets?tag=even&sort_by=name&sort_order=asc", headers=h).json()
    assert [a["name"] for a in r["data"]] == ["h0.example.com", "h2.example.com", "h4.example.com"]
    r = client.get("/api/v1/assets?per_page=2&page=3", headers=h).json()
    assert r["meta"] == {"total": 5, "page": 3, "per_page": 2, "total_pages": 3} and len(r["data"]) == 1
    r = client.get("/api/v1/assets?criticality=high", headers=h).json()
    assert [a["name"] for a in r["data"]] == ["h4.example.com"]
    assert client.get("/api/v1/assets?sort_by=colour", headers=h).status_code == 400


def test_update_and_delete(client, tenant, asset):
    h = tenant.headers()
    r = client.patch(f"/api/v1/assets/{asset['id']}", json={"criticality": "critical", "tags": ["crown-jewel"]},
                     headers=h)
    assert r.status_code == 200 and r.json()["data"]["criticality"] == "critical"
    assert client.delete(f"/api/v1/assets/{asset['id']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/assets/{asset['id']}", headers=h).status_code == 404


def test_other_workspace_is_404_and_viewer_is_403(client, tenant, other_tenant, asset):
    r = client.get(f"/api/v1/assets/{asset['id']}", headers=other_tenant.headers())
    assert r.status_code == 404
    r = client.patch(f"/api/v1/assets/{asset['id']}", json={"criticality": "low"},
                     headers=tenant.headers("viewer"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_scope"
    assert client.get("/api/v1/assets").status_code == 401


def test_delete_with_findings_needs_cascade(client, tenant, asset):
    from s4e_platform.asset.models import Asset
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.finding.ingest import ingest
    from s4e_platform.finding.models import Finding
    from s4e_platform.scanners.base import FindingCandidate, Location
    from sqlalchemy import func, select

    with unit_of_work() as s:
        row = s.get(Asset, asset["id"])
        ingest(s, workspace_id=row.workspace_id, asset=row, scanner="tls", scan_id=None, task_id=None,
               candidates=[FindingCandidate(check_id="tls.weak", title="Weak TLS", severity="medium",
                                            description="d", remediation="r", category="tls",
                                            location=Location(host=row.name, port=443, protocol="tcp"))])
    h = tenant.headers()
    r = client.delete(f"/api/v1/assets/{asset['id']}", headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "has_dependents"
    assert r.json()["error"]["details"]["findings"] == 1
    assert client.get(f"/api/v1/assets/{asset['id']}", headers=h).status_code == 200
    assert client.delete(f"/api/v1/assets/{asset['id']}?cascade=true", headers=h).status_code == 204
    with unit_of_work(readonly=True) as s:
        assert s.execute(select(func.count()).select_from(Finding)).scalar_one() == 0


def test_tag_filter_pages_and_totals_count_each_asset_once(client, tenant):
    h = tenant.headers()
    both = create_asset(client, tenant, name="both.example.com", tags=["a", "b"])
    only_a = create_asset(client, tenant, name="a.example.com", tags=["a"])
    ip_b = create_asset(client, tenant, name="192.0.2.7", type="ip", tags=["b"])
    create_asset(client, tenant, name="none.example.com", tags=["c"])

    def listed(query: str, headers=h) -> tuple[list[str], int]:
        body = client.get(f"/api/v1/assets?{query}", headers=headers).json()
        return [a["id"] for a in body["data"]], body["meta"]["total"]

    assert listed("tag=a,b") == ([ip_b["id"], only_a["id"], both["id"]], 3)  # newest first, each asset once
    assert listed("tag=a,b&per_page=1&page=2") == ([only_a["id"]], 3)
    assert listed("tag=b&type=domain") == ([both["id"]], 1)
    assert listed("tag=zzz") == ([], 0)
    key = tenant.key(["read:assets"], asset_restriction={"asset_ids": [only_a["id"], ip_b["id"]], "tags": []})
    assert listed("tag=a,b", {"Authorization": f"Bearer {key}"}) == ([ip_b["id"], only_a["id"]], 2)
