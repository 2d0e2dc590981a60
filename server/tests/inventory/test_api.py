"""GET /services, GET /services/{id}, GET /assets/{id}/services (api.md 2.3): filters, sorts, visibility."""

from __future__ import annotations

import pytest
from s4e_platform.asset.models import Asset
from s4e_platform.db.session import unit_of_work
from s4e_platform.inventory import store
from s4e_platform.kit.ids import new_id
from s4e_platform.scanners.base import ServiceObservation

from tests.fixtures.asset import create_asset

API = "/api/v1"


def record(asset_id: str, *services: ServiceObservation) -> None:
    with unit_of_work() as s:
        store.record_services(s, asset=s.get(Asset, asset_id), scan_id=new_id("scn"), services=list(services))


@pytest.fixture
def inventory(client, tenant) -> dict:
    web = create_asset(client, tenant, "203.0.113.10", "ip", tags=["web"])
    mail = create_asset(client, tenant, "mail.example.com")
    record(web["id"],
           ServiceObservation(ip="203.0.113.10", port=443, service="https", product="nginx", version="1.24",
                              tls=True, tls_summary={"versions": ["TLSv1.3"]}, banner="HTTP/1.1 200 OK",
                              cpe=["cpe:2.3:a:f5:nginx:1.24:*:*:*:*:*:*:*"]),
           ServiceObservation(ip="203.0.113.10", port=22, service="ssh", product="OpenSSH"),
           ServiceObservation(ip="203.0.113.10", port=161, protocol="udp", service="snmp", state="filtered"))
    record(mail["id"],
           ServiceObservation(ip="198.51.100.25", port=25, host="mail.example.com", service="smtp",
                              product="Postfix smtpd", details={"starttls": True}),
           ServiceObservation(ip="198.51.100.25", port=993, host="mail.example.com", service="imaps", tls=True))
    return {"web": web, "mail": mail}


def listed(client, tenant, path: str = "/services", key: str | None = None, **params) -> list[dict]:
    headers = {"Authorization": f"Bearer {key}"} if key else tenant.headers()
    r = client.get(API + path, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def ports(items: list[dict]) -> list[int]:
    return [s["port"] for s in items]


def test_list_shape_filters_and_sorts(client, tenant, inventory):
    everything = listed(client, tenant, sort_by="port", sort_order="asc")
    assert ports(everything) == [22, 25, 161, 443, 993]
    https = next(s for s in everything if s["port"] == 443)
    assert https["asset_id"] == inventory["web"]["id"] and https["id"].startswith("svc_")
    assert {k: https[k] for k in ("ip", "host", "protocol", "state", "service", "product", "version", "tls",
                                  "banner", "cpe", "tls_summary", "source")} == {
        "ip": "203.0.113.10", "host": None, "protocol": "tcp", "state": "open", "service": "https",
        "product": "nginx", "version": "1.24", "tls": True, "banner": "HTTP/1.1 200 OK",
        "cpe": ["cpe:2.3:a:f5:nginx:1.24:*:*:*:*:*:*:*"], "tls_summary": {"versions": ["TLSv1.3"]},
        "source": "scanner"}
    assert https["first_seen_at"].endswith("Z") and https["last_scan_id"].startswith("scn_")
    assert ports(listed(client, tenant, sort_by="port")) == [993, 443, 161, 25, 22]
    # Default: last seen first (the mail asset was recorded last).
    assert {s["port"] for s in listed(client, tenant)[:2]} == {25, 993}
    # Same sighting time: ties are broken by id, in the order the scan reported them.
    assert ports(listed(client, tenant, sort_by="last_seen_at", sort_order="asc")) == [443, 22, 161, 25, 993]

    def by(**params) -> list[int]:
        return sorted(ports(listed(client, tenant, **params)))

    assert by(port="25,993") == [25, 993]
    assert by(protocol="udp") == [161]
    assert by(service="SSH,smtp") == [22, 25]
    assert by(product="SMTPD") == [25] and by(product="x") == [25, 443]
    assert by(tls="true") == [443, 993] and by(tls="false") == [22, 25, 161]
    assert by(state="filtered") == [161] and by(state="open,closed") == [22, 25, 443, 993]
    assert by(asset_id=inventory["mail"]["id"].upper()) == [25, 993]
    assert by(asset_id=f"{inventory['mail']['id']},{inventory['web']['id']}", tls="true") == [443, 993]
    assert by(asset_id="ast_bogus") == [] and by(asset_id=new_id("ast")) == []
    assert by(product="100%_") == []


def test_pagination_meta(client, tenant, inventory):
    r = client.get(f"{API}/services", params={"per_page": 2, "page": 3, "sort_by": "port", "sort_order": "asc"},
                   headers=tenant.headers())
    assert r.json()["meta"] == {"total": 5, "page": 3, "per_page": 2, "total_pages": 3}
    assert ports(r.json()["data"]) == [993]


@pytest.mark.parametrize("params", [
    {"port": "http"}, {"port": "0"}, {"port": "65536"}, {"protocol": "sctp"}, {"tls": "yes"},
    {"state": "ajar"}, {"sort_by": "ip"}, {"colour": "blue"},
])
def test_bad_query_is_400(client, tenant, inventory, params):
    for path in ("/services", f"/assets/{inventory['web']['id']}/services"):
        r = client.get(API + path, params=params, headers=tenant.headers())
        assert r.status_code == 400, (path, params, r.text)
        assert r.json()["error"]["code"] in ("invalid_parameter", "unknown_parameter")


def test_get_one_service(client, tenant, other_tenant, inventory):
    smtp = listed(client, tenant, port="25")[0]
    r = client.get(f"{API}/services/{smtp['id'].upper()}", headers=tenant.headers("viewer"))
    assert r.status_code == 200 and r.json()["data"] == smtp
    assert smtp["details"] == {"starttls": True} and smtp["host"] == "mail.example.com"
    for path in (f"/services/{new_id('svc')}", f"/services/{inventory['web']['id']}", "/services/svc_x"):
        assert client.get(API + path, headers=tenant.headers()).status_code == 404
    assert client.get(f"{API}/services/{smtp['id']}", headers=other_tenant.headers()).status_code == 404
    assert listed(client, other_tenant) == []


def test_asset_services(client, tenant, other_tenant, inventory):
    web = inventory["web"]["id"]
    assert ports(listed(client, tenant, f"/assets/{web}/services", sort_by="port", sort_order="asc")) == [22, 161,
                                                                                                       443]
    assert ports(listed(client, tenant, f"/assets/{web}/services", state="open", sort_by="port")) == [443, 22]
    assert listed(client, tenant, f"/assets/{web}/services", port="25") == []
    empty = create_asset(client, tenant, "empty.example.com")
    assert listed(client, tenant, f"/assets/{empty['id']}/services") == []
    for asset_id in (new_id("ast"), "ast_bogus"):
        assert client.get(f"{API}/assets/{asset_id}/services", headers=tenant.headers()).status_code == 404
    r = client.get(f"{API}/assets/{web}/services", headers=other_tenant.headers())
    assert r.status_code == 404


def test_scope_and_asset_restriction(client, tenant, inventory):
    web, mail = inventory["web"]["id"], inventory["mail"]["id"]
    denied = client.get(f"{API}/services", headers={"Authorization": f"Bearer {tenant.key(['read:events'])}"})
    assert denied.status_code == 403 and denied.json()["error"]["details"]["required"] == ["read:assets"]
    by_id = tenant.key(["read:assets"], asset_restriction={"asset_ids": [mail], "tags": []})
    by_tag = tenant.key(["read:assets"], asset_restriction={"asset_ids": [], "tags": ["web"]})
    assert sorted(ports(listed(client, tenant, key=by_id))) == [25, 993]
    assert sorted(ports(listed(client, tenant, key=by_tag))) == [22, 161, 443]
    assert listed(client, tenant, key=by_id, asset_id=web) == []
    https = listed(client, tenant, port="443")[0]
    for path in (f"/services/{https['id']}", f"/assets/{web}/services"):
        assert client.get(API + path, headers={"Authorization": f"Bearer {by_id}"}).status_code == 404
        assert client.get(API + path, headers={"Authorization": f"Bearer {by_tag}"}).status_code == 200


def test_services_go_with_their_asset(client, tenant, inventory):
    web = inventory["web"]["id"]
    https = listed(client, tenant, port="443")[0]
    r = client.delete(f"{API}/assets/{web}", params={"cascade": "true"}, headers=tenant.headers())
    assert r.status_code == 204, r.text
    assert client.get(f"{API}/services/{https['id']}", headers=tenant.headers()).status_code == 404
    assert sorted(ports(listed(client, tenant))) == [25, 993]
