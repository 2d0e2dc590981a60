"""Service upserts and asset metadata merges, as the scan runner calls them (inventory/store.py)."""

from __future__ import annotations

import pytest
from s4e_platform.asset.models import Asset
from s4e_platform.db.session import unit_of_work
from s4e_platform.inventory import store
from s4e_platform.inventory.models import Service
from s4e_platform.kit.ids import new_id
from s4e_platform.scanners.base import ServiceObservation
from sqlalchemy import select

from tests.fixtures.asset import create_asset


def record(asset_id: str, services, scan_id: str | None = None) -> dict:
    with unit_of_work() as s:
        return store.record_services(s, asset=s.get(Asset, asset_id), scan_id=scan_id, services=services)


def rows(asset_id: str) -> dict[tuple[str, str, int], Service]:
    with unit_of_work(readonly=True) as s:
        found = s.execute(select(Service).where(Service.asset_id == asset_id)).scalars().all()
        s.expunge_all()
    return {(r.ip, r.protocol, r.port): r for r in found}


def asset_row(asset_id: str) -> Asset:
    with unit_of_work(readonly=True) as s:
        asset = s.get(Asset, asset_id)
        s.expunge(asset)
    return asset


def test_first_sighting_creates_rows_and_counts_open_services(client, tenant):
    asset = create_asset(client, tenant, "203.0.113.7", "ip")
    scan = new_id("scn")
    counts = record(asset["id"], [
        ServiceObservation(ip="203.0.113.7", port=22, service="SSH", product="OpenSSH", version="9.6",
                           banner="SSH-2.0-OpenSSH_9.6", cpe=["cpe:2.3:a:openbsd:openssh:9.6:*:*:*:*:*:*:*"]),
        ServiceObservation(ip="203.0.113.7", port=443, service="https", tls=True,
                           tls_summary={"versions": ["TLSv1.3"]}, details={"http": True}),
        ServiceObservation(ip="203.0.113.7", port=53, protocol="udp", state="filtered"),
    ], scan)
    assert counts == {"new": 3, "updated": 0}
    found = rows(asset["id"])
    ssh = found[("203.0.113.7", "tcp", 22)]
    assert (ssh.service, ssh.product, ssh.version, ssh.banner) == ("ssh", "OpenSSH", "9.6", "SSH-2.0-OpenSSH_9.6")
    assert ssh.id.startswith("svc_") and ssh.first_seen_at == ssh.last_seen_at and ssh.last_scan_id == scan
    assert ssh.source == "scanner" and ssh.workspace_id == tenant.workspace_id
    https = found[("203.0.113.7", "tcp", 443)]
    assert https.tls is True and https.tls_summary == {"versions": ["TLSv1.3"]} and https.details == {"http": True}
    assert found[("203.0.113.7", "udp", 53)].state == "filtered"
    # service_count counts open services only; the API shows it on the asset.
    assert asset_row(asset["id"]).service_count == 2
    shown = client.get(f"/api/v1/assets/{asset['id']}", headers=tenant.headers()).json()["data"]
    assert shown["service_count"] == 2


def test_later_sightings_update_and_keep_what_was_learned(client, tenant):
    asset = create_asset(client, tenant, "203.0.113.8", "ip")
    first_scan, second_scan = new_id("scn"), new_id("scn")
    record(asset["id"], [ServiceObservation(ip="203.0.113.8", port=80, service="http", product="nginx",
                                            version="1.24", banner="HTTP/1.1 200 OK", cpe=["cpe:2.3:a:f5:nginx"]),
                         ServiceObservation(ip="203.0.113.8", port=25, service="smtp", details={"starttls": True}),
                         ServiceObservation(ip="203.0.113.8", port=8080)], first_scan)
    before = rows(asset["id"])
    counts = record(asset["id"], [
        ServiceObservation(ip="203.0.113.8", port=80),  # reached, but nothing identified this time
        ServiceObservation(ip="203.0.113.8", port=25, state="closed", details={"auth_required": False}),
        ServiceObservation(ip="203.0.113.8", port=443, service="https", tls=True),
    ], second_scan)
    assert counts == {"new": 1, "updated": 2}
    after = rows(asset["id"])
    http, old_http = after[("203.0.113.8", "tcp", 80)], before[("203.0.113.8", "tcp", 80)]
    assert http.id == old_http.id and http.first_seen_at == old_http.first_seen_at
    assert http.last_seen_at > old_http.last_seen_at and http.last_scan_id == second_scan
    assert (http.service, http.product, http.version, http.banner, http.cpe) == (
        "http", "nginx", "1.24", "HTTP/1.1 200 OK", ["cpe:2.3:a:f5:nginx"])
    smtp = after[("203.0.113.8", "tcp", 25)]
    assert smtp.state == "closed" and smtp.details == {"starttls": True, "auth_required": False}
    # Not reported again: kept as last observed.
    kept = after[("203.0.113.8", "tcp", 8080)]
    assert kept.state == "open" and kept.last_scan_id == first_scan
    assert kept.last_seen_at == before[("203.0.113.8", "tcp", 8080)].last_seen_at
    assert asset_row(asset["id"]).service_count == 3  # 80, 8080, 443 open; 25 closed now


def test_one_row_per_key_long_banners_clipped_and_dict_observations(client, tenant):
    asset = create_asset(client, tenant, "198.51.100.0/30", "network")
    counts = record(asset["id"], [
        {"ip": "198.51.100.1", "port": 21, "service": "ftp", "banner": "x" * 5000, "method": "probe",
         "unknown_key": 1},
        ServiceObservation(ip="198.51.100.1", port=21, service="ftp", product="vsftpd", banner="é" * 2000),
        ServiceObservation(ip="198.51.100.2", port=21, product="p" * 400),
    ])
    assert counts == {"new": 2, "updated": 0}
    found = rows(asset["id"])
    ftp = found[("198.51.100.1", "tcp", 21)]
    assert ftp.product == "vsftpd" and len(ftp.banner.encode()) <= 1024 and ftp.banner.startswith("é")
    assert len(found[("198.51.100.2", "tcp", 21)].product) == 256
    # Raw bytes from the wire: PostgreSQL refuses NUL in text and JSONB, so it is dropped.
    record(asset["id"], [ServiceObservation(ip="198.51.100.3", port=7, banner="a\x00b", version="1\x00",
                                            details={"k\x00": ["v\x00"]}, tls_summary={"cn": "x\x00"})])
    echo = rows(asset["id"])[("198.51.100.3", "tcp", 7)]
    assert (echo.banner, echo.version, echo.details, echo.tls_summary) == ("ab", "1", {"k": ["v"]}, {"cn": "x"})
    assert record(asset["id"], []) == {"new": 0, "updated": 0}


@pytest.mark.parametrize("bad", [
    {"ip": "not-an-ip", "port": 80},
    {"ip": "192.0.2.1", "port": 0},
    {"ip": "192.0.2.1", "port": 70000},
    {"ip": "192.0.2.1", "port": 80, "protocol": "sctp"},
    {"ip": "192.0.2.1", "port": 80, "state": "ajar"},
])
def test_malformed_observations_are_refused_and_nothing_is_written(client, tenant, bad):
    asset = create_asset(client, tenant, "192.0.2.1", "ip")
    with pytest.raises(ValueError):
        record(asset["id"], [ServiceObservation(ip="192.0.2.1", port=22), bad])
    assert rows(asset["id"]) == {}


def test_services_are_per_asset(client, tenant):
    a = create_asset(client, tenant, "a.example.com")
    b = create_asset(client, tenant, "b.example.com")
    obs = [ServiceObservation(ip="192.0.2.20", port=443, host="a.example.com", tls=True)]
    assert record(a["id"], obs) == {"new": 1, "updated": 0}
    assert record(b["id"], obs) == {"new": 1, "updated": 0}
    assert rows(a["id"])[("192.0.2.20", "tcp", 443)].id != rows(b["id"])[("192.0.2.20", "tcp", 443)].id


def test_merge_asset_metadata_keeps_other_keys(client, tenant):
    asset = create_asset(client, tenant, "meta.example.com")
    with unit_of_work() as s:
        row = s.get(Asset, asset["id"])
        assert store.merge_asset_metadata(s, row, {"dns": {"records": {"A": ["192.0.2.1"]}},
                                                   "ip_addresses": ["192.0.2.1"]}) == ["dns", "ip_addresses"]
    with unit_of_work() as s:
        row = s.get(Asset, asset["id"])
        assert store.merge_asset_metadata(s, row, {"email": {"spf": ["v=spf1 -all"]},
                                                   "ip_addresses": ["192.0.2.1"]}) == ["email"]
        assert store.merge_asset_metadata(s, row, {}) == []
        assert store.merge_asset_metadata(s, row, {"txt": ["v=x\x00y"]}) == ["txt"]
    shown = client.get(f"/api/v1/assets/{asset['id']}", headers=tenant.headers()).json()["data"]["metadata"]
    assert shown == {"dns": {"records": {"A": ["192.0.2.1"]}}, "ip_addresses": ["192.0.2.1"],
                     "email": {"spf": ["v=spf1 -all"]}, "txt": ["v=xy"]}


def test_merge_technologies_one_entry_per_product_version(client, tenant):
    from s4e_platform.scanners.base import TechnologyObservation

    asset = create_asset(client, tenant, "tech.example.com")
    with unit_of_work() as s:
        row = s.get(Asset, asset["id"])
        added = store.merge_technologies(s, row, [
            TechnologyObservation("nginx", "1.22.1", "cpe:2.3:a:f5:nginx:1.22.1:*:*:*:*:*:*:*", ["web-server"], 90),
            TechnologyObservation("OpenSSH", "9.2p1", None, [], 100, ip="192.0.2.1", port=22)])
        assert added == 2
    with unit_of_work() as s:
        row = s.get(Asset, asset["id"])
        # Seen again (other port, higher confidence) and one new version: one entry per (name, version).
        added = store.merge_technologies(s, row, [TechnologyObservation("NGINX", "1.22.1", None, [], 100),
                                                  TechnologyObservation("nginx", "1.24.0"), {"name": ""}])
        assert added == 1
    techs = client.get(f"/api/v1/assets/{asset['id']}", headers=tenant.headers()).json()["data"]["metadata"][
        "technologies"]
    assert [(t["name"], t["version"], t["confidence"]) for t in techs] == [
        ("nginx", "1.22.1", 100), ("OpenSSH", "9.2p1", 100), ("nginx", "1.24.0", 100)]
    assert techs[0]["cpe"] == "cpe:2.3:a:f5:nginx:1.22.1:*:*:*:*:*:*:*" and techs[0]["categories"] == ["web-server"]
