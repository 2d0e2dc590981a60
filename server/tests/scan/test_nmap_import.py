"""nmap XML import: services and exposure findings recorded as a completed port scan; hostile files refused."""

from __future__ import annotations

from pathlib import Path

from s4e_platform.db.session import unit_of_work
from s4e_platform.finding.models import Finding
from s4e_platform.inventory.models import Service
from sqlalchemy import func, select

from tests.fixtures.asset import create_asset
from tests.scan.conftest import events_of, scan_count

SAMPLE = (Path(__file__).parents[1] / "scanners" / "portscan" / "data" / "nmap_loopback.xml").read_bytes()
# A public address (no traffic is sent: it is only data in the file) with telnet and MySQL open, and a second host
# that is not part of the asset.
PUBLIC = b"""<?xml version="1.0"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -sT -sV 93.184.216.34" version="7.93">
<host><status state="up"/><address addr="93.184.216.34" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="23"><state state="open"/><service name="telnet" method="probed"/></port>
<port protocol="tcp" portid="3306"><state state="open"/><service name="mysql" product="MySQL" version="8.0.36"
 method="probed"><cpe>cpe:/a:mysql:mysql:8.0.36</cpe></service></port>
<port protocol="tcp" portid="25"><state state="closed"/><service name="smtp"/></port>
</ports></host>
<host><status state="up"/><address addr="93.184.216.35" addrtype="ipv4"/><ports>
<port protocol="tcp" portid="22"><state state="open"/><service name="ssh"/></port></ports></host>
</nmaprun>"""


def _import(client, tenant, asset_id: str, data: bytes, content_type: str = "application/xml"):
    return client.post(f"/api/v1/assets/{asset_id}/services/import", content=data,
                       headers={**tenant.headers(), "Content-Type": content_type})


def _count(model, **where) -> int:
    with unit_of_work(readonly=True) as s:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return s.execute(stmt).scalar_one()


def test_import_records_services_findings_and_a_completed_scan(client, tenant):
    asset = create_asset(client, tenant, "93.184.216.34", "ip")
    r = _import(client, tenant, asset["id"], PUBLIC)
    assert r.status_code == 201, r.text
    body = r.json()["data"]
    assert (body["hosts"], body["skipped_hosts"], body["services"], body["open_services"]) == (
        1, ["93.184.216.35"], 3, 2)
    assert body["finding_counts"] == {"new": 2, "reopened": 0, "seen": 0, "resolved": 0}
    scan = body["scan"]
    assert scan["status"] == "completed" and scan["scan_type"] == "port" and scan["scanners"] == ["port_scan"]
    assert r.headers["Location"] == f"/api/v1/scans/{scan['id']}"
    with unit_of_work(readonly=True) as s:
        checks = sorted(s.execute(select(Finding.check_id, Finding.severity, Finding.scan_id)).all())
        sources = set(s.execute(select(Service.source)).scalars())
    assert checks == [("database_port_exposed", "high", scan["id"]), ("telnet_exposed", "high", scan["id"])]
    assert sources == {"nmap_import"}
    assert [e.data["scan_id"] for e in events_of("scan.completed")] == [scan["id"]]
    assert len(events_of("finding.new")) == 2
    # The asset's services are listed with the import as their source.
    listed = client.get(f"/api/v1/assets/{asset['id']}/services", headers=tenant.headers()).json()["data"]
    assert sorted(x["port"] for x in listed) == [23, 25, 3306]

    # Importing the same file again dedups: same findings, one more sighting each, no new rows.
    again = _import(client, tenant, asset["id"], PUBLIC).json()["data"]
    assert again["finding_counts"] == {"new": 0, "reopened": 0, "seen": 2, "resolved": 0}
    assert _count(Finding) == 2 and _count(Service) == 3


def test_domain_matches_by_nmap_hostname_and_multipart_works(client, tenant):
    asset = create_asset(client, tenant, "localhost.example", "domain")
    sample = SAMPLE.replace(b'name="localhost"', b'name="localhost.example"')
    r = client.post(f"/api/v1/assets/{asset['id']}/services/import",
                    files={"file": ("scan.xml", sample, "application/xml")}, headers=tenant.headers())
    assert r.status_code == 201, r.text
    assert r.json()["data"]["open_services"] == 6
    # Loopback is not internet-facing: no "database port exposed" findings from a local scan.
    assert _count(Finding, check_id="database_port_exposed") == 0


def test_bad_files_are_refused_and_change_nothing(client, tenant):
    asset = create_asset(client, tenant, "93.184.216.34", "ip")
    other = create_asset(client, tenant, "198.51.100.7", "ip")
    bomb = (b'<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY a "aaaaaaaaaa">]>'
            b"<nmaprun>&a;</nmaprun>")
    cases = [
        (asset["id"], bomb, "application/xml", 422, "forbidden_xml"),
        (asset["id"], b"<nmaprun><host>", "application/xml", 422, "invalid_xml"),
        (asset["id"], b"<html></html>", "application/xml", 422, "not_nmap"),
        (other["id"], PUBLIC, "application/xml", 422, "no_matching_host"),
        (asset["id"], PUBLIC, "text/plain", 415, None),
    ]
    for asset_id, data, ctype, status, code in cases:
        r = _import(client, tenant, asset_id, data, ctype)
        assert r.status_code == status, r.text
        if code:
            assert r.json()["error"]["details"][0]["code"] == code
    assert scan_count() == 0 and _count(Service) == 0 and _count(Finding) == 0


def test_viewer_and_other_workspace_cannot_import(client, tenant, other_tenant):
    asset = create_asset(client, tenant, "93.184.216.34", "ip")
    r = _import(client, other_tenant, asset["id"], PUBLIC)
    assert r.status_code == 404
    assert scan_count() == 0
