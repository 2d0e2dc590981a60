"""GET /findings filters and sorts, asset restriction, GET /findings/{id} and the summary."""

from __future__ import annotations

from datetime import timedelta

import pytest
from s4e_platform.kit.clock import isoformat, utcnow

from tests.finding.api_helpers import API, make_asset, seed, set_columns

SCAN_A = "scn_01hv8x5m3t9q4zc2n7k1r6pbda"
SCAN_B = "scn_01hv8x5m3t9q4zc2n7k1r6pbdb"


@pytest.fixture
def world(tenant):
    """Two assets and five findings with distinct attributes; names map to ids."""
    ws = tenant.workspace_id
    # Criticalities and tags no default severity rule matches: severities stay as seeded.
    web = make_asset(ws, "web.example.com", criticality="high", tags=["prod", "web"])
    dev = make_asset(ws, "dev.example.com", criticality="medium", tags=["qa"], network_zone="internal")
    ids = {}
    ids["crit"], = seed(ws, web, "log4shell", severity="critical", scan_id=SCAN_A, cvss=10.0, kev=True,
                        epss=0.97, cve_ids=["CVE-2021-44228"], cwe_ids=["CWE-502"], risk_score=100)
    ids["high"], = seed(ws, web, "tls.old", severity="high", scan_id=SCAN_A, cvss=7.5, risk_score=60,
                        sla_breached=True)
    ids["med"], = seed(ws, dev, "hsts.missing", severity="medium", scanner="http_headers", scan_id=SCAN_B,
                       risk_score=22)
    ids["low"], = seed(ws, dev, "banner", severity="low", scan_id=SCAN_B, risk_score=9)
    ids["fp"], = seed(ws, dev, "noise", severity="info", scan_id=SCAN_B, status="false_positive")
    base = utcnow() - timedelta(days=10)
    for n, name in enumerate(("crit", "high", "med", "low", "fp")):
        set_columns(ids[name], discovered_at=base + timedelta(days=n))
    set_columns(ids["med"], assignee_id=tenant.users["analyst"], last_scan_id=SCAN_A, title="HSTS header missing",
                description="Strict-Transport-Security is absent 100%_sure")
    return {"ids": ids, "web": web, "dev": dev, "base": base}


def names(world, response) -> list[str]:
    assert response.status_code == 200, response.text
    back = {v: k for k, v in world["ids"].items()}
    return [back[f["id"]] for f in response.json()["data"]]


def listing(client, tenant, query: str = ""):
    return client.get(f"{API}/findings?{query}", headers=tenant.headers())


def test_default_list_hides_false_positives_newest_first(client, tenant, world):
    r = listing(client, tenant)
    assert names(world, r) == ["low", "med", "high", "crit"]
    assert r.json()["meta"] == {"total": 4, "page": 1, "per_page": 20, "total_pages": 1}
    item = r.json()["data"][-1]
    assert item["asset"] == {"id": world["web"], "name": "web.example.com", "type": "domain",
                             "criticality": "high", "tags": ["prod", "web"]}
    assert "evidence" not in item and item["cve_ids"] == ["CVE-2021-44228"] and item["kev"] is True
    assert item["location"]["port"] == 443 and item["discovered_at"].endswith("Z")


@pytest.mark.parametrize(("query", "expected"), [
    ("severity=critical,high", ["high", "crit"]),
    ("status=false_positive", ["fp"]),
    ("status=open,false_positive&severity=info,low", ["fp", "low"]),
    ("scanner=http_headers", ["med"]),
    ("check_id=banner,log4shell", ["low", "crit"]),
    ("category=tls", ["low", "med", "high", "crit"]),
    ("cve=cve-2021-44228", ["crit"]),
    ("cwe=CWE-502", ["crit"]),
    ("cwe=CWE-50", []),
    ("tag=web", ["high", "crit"]),
    ("tag=qa,prod", ["low", "med", "high", "crit"]),
    ("criticality=medium", ["low", "med"]),
    ("assignee_id=none", ["low", "high", "crit"]),
    ("kev=true", ["crit"]),
    ("kev=false", ["low", "med", "high"]),
    ("epss_min=0.5", ["crit"]),
    ("cvss_min=7&cvss_max=9", ["high"]),
    ("risk_min=50", ["high", "crit"]),
    ("sla_breached=true", ["high"]),
    ("search=hsts header", ["med"]),
    ("search=100%25_", ["med"]),
    ("search=cve-2021", ["crit"]),
    ("search=%25", ["med"]),
    ("asset_id=ast_01hv8x5m3t9q4zc2n7k1r6pbde", []),
    ("asset_id=not-an-id", []),
])
def test_filters(client, tenant, world, query, expected):
    assert names(world, listing(client, tenant, query)) == expected


def test_id_and_time_filters(client, tenant, world):
    ids = world["ids"]
    assert names(world, listing(client, tenant, f"asset_id={world['web']}")) == ["high", "crit"]
    assert names(world, listing(client, tenant, f"assignee_id={tenant.users['analyst']}")) == ["med"]
    # scan_id matches the first or the latest detecting scan
    assert names(world, listing(client, tenant, f"scan_id={SCAN_A}")) == ["med", "high", "crit"]
    assert names(world, listing(client, tenant, f"scan_id={SCAN_B}")) == ["low", "med"]
    start, end = world["base"] + timedelta(days=1), world["base"] + timedelta(days=3)
    got = names(world, client.get(f"{API}/findings", params={"from": isoformat(start), "to": isoformat(end)},
                                  headers=tenant.headers()))
    assert got == ["med", "high"]
    assert ids["crit"] not in [f["id"] for f in listing(client, tenant, "service_id=svc_01hv8x5m3t9q4zc2n7k1r6pbde")
                               .json()["data"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("sort_by=severity", ["crit", "high", "med", "low"]),
    ("sort_by=severity&sort_order=asc", ["low", "med", "high", "crit"]),
    ("sort_by=cvss", ["crit", "high", "med", "low"]),  # unknown scores last (ties by id, descending)
    ("sort_by=cvss&sort_order=asc", ["high", "crit", "med", "low"]),
    ("sort_by=risk_score&sort_order=asc", ["low", "med", "high", "crit"]),
    ("sort_by=discovered_at&sort_order=asc", ["crit", "high", "med", "low"]),
    ("sort_by=title&sort_order=asc", ["med", "low", "crit", "high"]),
])
def test_sorts(client, tenant, world, query, expected):
    got = names(world, listing(client, tenant, query))
    if query.startswith("sort_by=cvss"):  # med and low have no score: their relative order is the id tie-break
        assert got[:2] == expected[:2] and set(got[2:]) == {"med", "low"}
    else:
        assert got == expected


def test_sort_by_due_date_and_status_and_last_seen(client, tenant, world):
    for key in ("sla_due_at", "status", "last_seen_at"):
        assert listing(client, tenant, f"sort_by={key}").status_code == 200


@pytest.mark.parametrize("query", ["severity=urgent", "status=closed", "kev=yes", "cvss_min=11", "cve=log4j",
                                   "cvss_min=9&cvss_max=1", "sort_by=colour", "severity=high&severity=low",
                                   "epss_min=nan", "criticality=huge", "typo=1"])
def test_bad_query_is_400(client, tenant, world, query):
    r = listing(client, tenant, query)
    assert r.status_code == 400, (query, r.text)
    assert r.json()["error"]["code"] in ("invalid_parameter", "unknown_parameter")


def test_pages(client, tenant, world):
    r = listing(client, tenant, "per_page=3&page=2&sort_by=severity").json()
    assert r["meta"] == {"total": 4, "page": 2, "per_page": 3, "total_pages": 2} and len(r["data"]) == 1
    assert listing(client, tenant, "page=9").json()["data"] == []


def test_asset_restricted_key_sees_only_allowed_assets(client, tenant, world):
    ids = world["ids"]
    by_tag = {"Authorization": f"Bearer {tenant.key(['read:findings'], asset_restriction={'tags': ['web']})}"}
    r = client.get(f"{API}/findings", headers=by_tag)
    assert names(world, r) == ["high", "crit"]
    assert client.get(f"{API}/findings/{ids['crit']}", headers=by_tag).status_code == 200
    assert client.get(f"{API}/findings/{ids['low']}", headers=by_tag).status_code == 404
    summary = client.get(f"{API}/findings/summary", headers=by_tag).json()["data"]
    assert summary["total"] == 2
    only_dev = tenant.key(["read:findings"], asset_restriction={"asset_ids": [world["dev"]]})
    by_id = {"Authorization": f"Bearer {only_dev}"}
    assert names(world, client.get(f"{API}/findings?status=open,false_positive", headers=by_id)) == ["fp", "low",
                                                                                                    "med"]


def test_other_workspace_sees_nothing(client, tenant, other_tenant, world):
    assert client.get(f"{API}/findings", headers=other_tenant.headers()).json()["meta"]["total"] == 0
    r = client.get(f"{API}/findings/{world['ids']['crit']}", headers=other_tenant.headers())
    assert r.status_code == 404


def test_get_finding_has_evidence(client, tenant):
    asset = make_asset(tenant.workspace_id)
    fid, = seed(tenant.workspace_id, asset, "tls.weak", evidence={"matcher_name": "tls10", "output": "TLSv1.0"})
    r = client.get(f"{API}/findings/{fid.upper()}", headers=tenant.headers())
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["id"] == fid and data["evidence"] == {"matcher_name": "tls10", "output": "TLSv1.0"}
    assert data["sighting_count"] == 1 and data["status"] == "open" and data["tickets"] == []
    assert client.get(f"{API}/findings/fnd_01hv8x5m3t9q4zc2n7k1r6pbde", headers=tenant.headers()).status_code == 404
    assert client.get(f"{API}/findings/{asset}", headers=tenant.headers()).status_code == 404


def test_summary_counts(client, tenant, world):
    r = client.get(f"{API}/findings/summary", headers=tenant.headers())
    assert r.status_code == 200, r.text
    s = r.json()["data"]
    assert s["total"] == 4 and s["kev"] == 1 and s["sla_breached"] == 1
    assert s["by_severity"] == {"critical": 1, "high": 1, "medium": 1, "low": 1, "info": 0}
    assert s["by_status"]["open"] == 4 and s["by_status"]["false_positive"] == 0
    assert s["by_severity_status"]["critical"]["open"] == 1
    assert s["by_criticality"] == {"critical": 0, "high": 2, "medium": 2, "low": 0}
    everything = client.get(f"{API}/findings/summary?status=open,false_positive",
                            headers=tenant.headers()).json()["data"]
    assert everything["total"] == 5 and everything["by_severity_status"]["info"]["false_positive"] == 1
    web = client.get(f"{API}/findings/summary?tag=web&severity=critical", headers=tenant.headers()).json()["data"]
    assert web["total"] == 1 and web["by_criticality"]["high"] == 1
