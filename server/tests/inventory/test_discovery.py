"""Discovered subdomains become child domain assets (scanning.md 2.1, events.md `asset.discovered`)."""

from __future__ import annotations

from s4e_platform.asset.models import Asset
from s4e_platform.db.session import unit_of_work
from s4e_platform.inventory import discovery
from s4e_platform.kit.ids import new_id
from s4e_platform.scanners.base import DiscoveredAssetObservation

from tests.asset.test_bulk import events
from tests.fixtures.asset import create_asset


def found(name: str, source: str = "wordlist", addresses=("93.184.215.14",), **details) -> DiscoveredAssetObservation:
    return DiscoveredAssetObservation(type="domain", value=name, source=source, addresses=list(addresses),
                                      details=details)


def discover(parent_id: str, observations, scan_id: str | None = None) -> list[dict]:
    with unit_of_work() as s:
        created = discovery.record_discovered(s, parent=s.get(Asset, parent_id), observations=observations,
                                              scan_id=scan_id, scanner="subdomain_discovery")
        return [{"id": a.id, "name": a.name, "persistent": a in s} for a in created]


def children(client, tenant, parent_id: str) -> dict[str, dict]:
    r = client.get("/api/v1/assets", params={"parent_id": parent_id, "per_page": 100}, headers=tenant.headers())
    assert r.status_code == 200, r.text
    return {a["name"]: a for a in r.json()["data"]}


def override(client, tenant, asset_id: str) -> None:
    r = client.post(f"/api/v1/assets/{asset_id}/verification/override", json={"reason": "we own this domain"},
                    headers=tenant.headers())
    assert r.status_code == 200, r.text


def test_children_of_a_verified_domain_inherit_verification(client, tenant):
    parent = create_asset(client, tenant, "example.com")
    override(client, tenant, parent["id"])
    before = len(events(client, tenant))
    scan = new_id("scn")
    created = discover(parent["id"], [found("WWW.Example.com.", cname="edge.cdn.example.net"),
                                      found("mail.example.com", "certificate", ["10.0.0.5", "10.0.0.5", "bogus"])],
                       scan)
    assert [c["name"] for c in created] == ["www.example.com", "mail.example.com"]
    assert all(c["persistent"] for c in created)
    kids = children(client, tenant, parent["id"])
    www = kids["www.example.com"]
    assert www["source"] == "discovery" and www["type"] == "domain" and www["parent_id"] == parent["id"]
    assert www["verified"] is True and www["status"] == "active"
    assert www["verification"]["method"] == "inherited"
    assert www["verification"]["inherited_from"] == parent["id"]
    assert www["created_by"] is None and www["tags"] == [] and www["criticality"] == "medium"
    assert www["metadata"] == {"ip_addresses": ["93.184.215.14"], "discovery": {
        "source": "wordlist", "scanner": "subdomain_discovery", "scan_id": scan, "cname": "edge.cdn.example.net"}}
    mail = kids["mail.example.com"]
    assert mail["metadata"]["ip_addresses"] == ["10.0.0.5"] and mail["network_zone"] == "internal"
    assert www["network_zone"] == "external"
    parent_now = client.get(f"/api/v1/assets/{parent['id']}", headers=tenant.headers()).json()["data"]
    assert parent_now["child_count"] == 2

    new_events = events(client, tenant)[before:]
    assert [e["event"] for e in new_events] == ["asset.discovered", "asset.discovered"]
    first = new_events[0]
    assert first["actor"] == {"type": "system", "id": None, "name": "scanner"}
    assert first["data"] == {
        "asset": {"id": www["id"], "name": "www.example.com", "type": "domain", "status": "active",
                  "verified": True, "criticality": "medium", "tags": [], "parent_id": parent["id"],
                  "source": "discovery", "network_zone": "external"},
        "parent_id": parent["id"], "discovered_by": {"scanner": "subdomain_discovery", "scan_id": scan}}


def test_children_of_an_unverified_domain_are_pending(client, tenant):
    parent = create_asset(client, tenant, "pending.example")
    created = discover(parent["id"], [found("api.pending.example")])
    assert len(created) == 1
    api = children(client, tenant, parent["id"])["api.pending.example"]
    assert api["verified"] is False and api["verification"] is None
    assert api["status"] == "pending_verification"
    assert [e["data"]["asset"]["verified"] for e in events(client, tenant, "asset.discovered")] == [False]


def test_a_verified_ancestor_below_the_parent_is_inherited_from(client, tenant):
    parent = create_asset(client, tenant, "corp.example")
    middle = create_asset(client, tenant, "eu.corp.example")
    override(client, tenant, middle["id"])
    discover(parent["id"], [found("shop.eu.corp.example"), found("hr.corp.example")])
    kids = children(client, tenant, parent["id"])
    assert kids["shop.eu.corp.example"]["verification"]["inherited_from"] == middle["id"]
    assert kids["hr.corp.example"]["verified"] is False


def test_existing_duplicate_out_of_domain_and_invalid_names_are_skipped(client, tenant):
    parent = create_asset(client, tenant, "example.org")
    existing = create_asset(client, tenant, "old.example.org", tags=["keep"], criticality="high")
    before = len(events(client, tenant))
    created = discover(parent["id"], [
        found("old.example.org"),  # exists: untouched
        found("new.example.org"), found("NEW.example.org"),  # one asset
        found("example.org"),  # the parent itself
        found("evil.example.org.attacker.test"), found("notexample.org"), found("example.com"),
        found("*.example.org"), found("_dmarc.example.org"), found("a..example.org"), found("x" * 64 + ".example.org"),
        DiscoveredAssetObservation(type="ip", value="192.0.2.1", source="dns_record"),
        {"type": "domain", "value": "dict.example.org", "source": "dns_record", "addresses": []},
    ])
    assert sorted(c["name"] for c in created) == ["dict.example.org", "new.example.org"]
    old = client.get(f"/api/v1/assets/{existing['id']}", headers=tenant.headers()).json()["data"]
    assert old["parent_id"] is None and old["source"] == "manual" and old["tags"] == ["keep"]
    assert old["criticality"] == "high" and old["metadata"] == {}
    assert [e["data"]["asset"]["name"] for e in events(client, tenant)[before:]] == [
        "new.example.org", "dict.example.org"]
    # A second run over the same names creates nothing and says nothing.
    assert discover(parent["id"], [found("new.example.org"), found("dict.example.org")]) == []
    assert len(events(client, tenant)) == before + 2


def test_names_of_another_workspace_do_not_count_as_existing(client, tenant, other_tenant):
    create_asset(client, other_tenant, "shared.example.net")
    parent = create_asset(client, tenant, "example.net")
    assert [c["name"] for c in discover(parent["id"], [found("shared.example.net")])] == ["shared.example.net"]
    r = client.get("/api/v1/assets", params={"parent_id": parent["id"]}, headers=other_tenant.headers())
    assert r.json()["data"] == []


def test_cap_per_call_and_the_rest_on_the_next_run(client, tenant, monkeypatch):
    monkeypatch.setattr(discovery, "MAX_PER_CALL", 3)
    parent = create_asset(client, tenant, "big.example")
    names = [found(f"h{i}.big.example") for i in range(5)]
    assert len(discover(parent["id"], names)) == 3
    assert len(discover(parent["id"], names)) == 2
    assert len(children(client, tenant, parent["id"])) == 5


def test_only_domain_and_url_parents_have_subdomains(client, tenant):
    ip = create_asset(client, tenant, "192.0.2.99", "ip")
    assert discover(ip["id"], [found("www.example.com")]) == []
    url = create_asset(client, tenant, "https://app.example.io/login", "url")
    assert [c["name"] for c in discover(url["id"], [found("cdn.app.example.io"), found("other.example.io")])] == [
        "cdn.app.example.io"]
