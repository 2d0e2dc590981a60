"""Scanner catalog endpoints (api.md 2.4 `GET /scanners`, `GET /scanners/{id}`; scanning.md section 2)."""

from __future__ import annotations

import pytest
from s4e_platform.scanners import registry

API = "/api/v1/scanners"
# Other scanners may join the registry later; these are the ones the catalog must already list.
IMPLEMENTED = {"port_scan", "tls", "http_headers", "exposed_files", "dns", "email_security", "subdomain_discovery"}


def every_id() -> list[str]:
    return sorted(s.id for s in registry.all_scanners())


def expected(keep) -> list[str]:
    """Ids of the registered scanners `keep(entry)` accepts, in catalog order."""
    return [e["id"] for e in registry.catalog() if keep(e)]


def get(client, headers, path: str = "", **params):
    """A catalog request in ascending id order, so expectations read like the registry."""
    return client.get(API + path, params={"sort_by": "id", "sort_order": "asc", **params}, headers=headers)


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["data"]]


def test_list_returns_every_registered_scanner_with_its_option_schema(client, tenant):
    r = get(client, tenant.headers())
    assert ids(r) == every_id() and IMPLEMENTED <= set(ids(r))
    assert r.json()["meta"] == {"total": len(every_id()), "page": 1, "per_page": 20, "total_pages": 1}
    port_scan = next(s for s in r.json()["data"] if s["id"] == "port_scan")
    assert port_scan["category"] == "network" and port_scan["active"] is True
    assert set(port_scan["target_types"]) == {"ip", "network", "domain", "url"}
    assert port_scan["phase"] == "port_scanning" and port_scan["version"]
    assert port_scan["options_schema"]["type"] == "object"
    assert "ports" in port_scan["options_schema"]["properties"]
    # The catalog is the registry itself: each entry is what the engine declares.
    assert r.json()["data"] == registry.catalog()


def test_get_one_scanner(client, tenant):
    r = client.get(f"{API}/tls", headers=tenant.headers())
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data == registry.get("tls").describe()
    assert data["category"] == "tls" and "tls_ports" in data["options_schema"]["properties"]


@pytest.mark.parametrize("scanner_id", ["nuclei", "PORT_SCAN", "ast_01hv8x5m3t9q4zc2n7k1r6pbde", "x" * 300,
                                        "port_scan%00"])
def test_unknown_scanner_is_404(client, tenant, scanner_id):
    r = client.get(f"{API}/{scanner_id}", headers=tenant.headers())
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_filters(client, tenant):
    h = tenant.headers()
    dns = ids(get(client, h, category="dns"))
    assert {"dns", "email_security"} <= set(dns) and dns == expected(lambda e: e["category"] == "dns")
    both = ids(get(client, h, category="dns,tls"))
    assert both == expected(lambda e: e["category"] in ("dns", "tls")) and "tls" in both
    passive = ids(get(client, h, active="false"))
    assert {"email_security", "subdomain_discovery"} <= set(passive) and "port_scan" not in passive
    assert passive == expected(lambda e: not e["active"])
    active = ids(get(client, h, active="true"))
    assert sorted(active + passive) == every_id() and "port_scan" in active
    by_ip = ids(get(client, h, target_type="ip"))
    assert {"port_scan", "tls"} <= set(by_ip) and "dns" not in by_ip
    assert by_ip == expected(lambda e: "ip" in e["target_types"])
    any_of = ids(get(client, h, target_type="network,ip"))
    assert any_of == expected(lambda e: {"ip", "network"} & set(e["target_types"]))
    assert ids(get(client, h, search="HEADERS")) == ["http_headers"]
    combined = get(client, h, category="web", target_type="url", search="exposed")
    assert ids(combined) == ["exposed_files"]
    none = get(client, h, search="no-such-scanner")
    assert ids(none) == [] and none.json()["meta"]["total"] == 0 and none.json()["meta"]["total_pages"] == 0


def test_pages(client, tenant):
    total = len(every_id())
    seen = []
    for page in range(1, -(-total // 3) + 1):
        r = get(client, tenant.headers(), per_page=3, page=page)
        assert r.json()["meta"] == {"total": total, "page": page, "per_page": 3, "total_pages": -(-total // 3)}
        seen += ids(r)
    assert seen == every_id()
    beyond = get(client, tenant.headers(), per_page=3, page=99)
    assert ids(beyond) == [] and beyond.json()["meta"]["total"] == total


def test_sorting(client, tenant):
    h = tenant.headers()
    default = client.get(API, headers=h)  # api.md 1.8: sort_order defaults to desc
    assert ids(default) == every_id()[::-1]
    by_name = [e["name"] for e in get(client, h, sort_by="name").json()["data"]]
    assert by_name == sorted(by_name, key=str.casefold) and len(by_name) == len(every_id())
    by_category = get(client, h, sort_by="category", sort_order="desc").json()["data"]
    keys = [(e["category"], e["id"]) for e in by_category]
    assert keys == sorted(keys, reverse=True)


@pytest.mark.parametrize("params", [{"category": "bogus"}, {"target_type": "host"}, {"active": "yes"},
                                    {"per_page": "0"}, {"per_page": "101"}, {"sort": "id"}, {"sort_by": "version"},
                                    {"sort_order": "up"}, {"search": "x" * 257}])
def test_bad_query_is_rejected(client, tenant, params):
    r = client.get(API, params=params, headers=tenant.headers())
    assert r.status_code in (400, 422), r.text
    assert r.json()["error"]["code"] in ("invalid_parameter", "validation_error", "unknown_parameter")


def test_viewer_key_allowed(client, tenant):
    assert ids(get(client, tenant.headers("viewer"))) == every_id()
    key = tenant.key(["read:scans"], role="viewer")
    r = client.get(f"{API}/port_scan", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json()["data"]["id"] == "port_scan"


def test_key_without_read_scans_is_403(client, tenant):
    headers = {"Authorization": f"Bearer {tenant.key(['read:assets', 'read:findings'])}"}
    for path in (API, f"{API}/port_scan"):
        r = client.get(path, headers=headers)
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "insufficient_scope"
        assert r.json()["error"]["details"]["required"] == ["read:scans"]


def test_anonymous_is_401(client):
    assert client.get(API).status_code == 401
    assert client.get(f"{API}/port_scan").status_code == 401


def test_same_catalog_in_every_workspace(client, tenant, other_tenant):
    mine = get(client, tenant.headers()).json()["data"]
    theirs = get(client, other_tenant.headers("viewer")).json()["data"]
    assert mine == theirs
