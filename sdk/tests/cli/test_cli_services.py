"""`s4e services` and `s4e assets services` against the real app in-process."""

from __future__ import annotations


def record_services(asset_id: str, *observations) -> None:
    from s4e_platform.asset.models import Asset
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.inventory import store

    with unit_of_work() as s:
        store.record_services(s, asset=s.get(Asset, asset_id), scan_id=None, services=list(observations))


def test_services_commands(s4e, s4e_json, platform):
    from s4e_platform.scanners.base import ServiceObservation

    web = s4e("assets", "create", "203.0.113.90", "--type", "ip", "-q").stdout.strip()
    other = s4e("assets", "create", "other.example.com", "--type", "domain", "-q").stdout.strip()
    record_services(web, ServiceObservation(ip="203.0.113.90", port=443, service="https", product="nginx", tls=True,
                                            banner="HTTP/1.1 200 OK"),
                    ServiceObservation(ip="203.0.113.90", port=22, service="ssh", product="OpenSSH"))
    record_services(other, ServiceObservation(ip="198.51.100.9", port=25, service="smtp", state="closed"))

    table = s4e("services", "list", key="viewer")
    assert table.exit_code == 0, table.output
    assert "nginx" in table.stdout and "OpenSSH" in table.stdout and "3 total" in table.stdout
    listed = s4e_json("services", "list", "--sort-by", "port", "--sort-order", "asc", "--all")
    assert [s["port"] for s in listed] == [22, 25, 443]
    assert [s["port"] for s in s4e_json("services", "list", "--tls", "--port", "443,22")] == [443]
    assert [s["port"] for s in s4e_json("services", "list", "--no-tls", "--state", "closed")] == [25]
    assert [s["port"] for s in s4e_json("services", "list", "--asset-id", other, "--product", "")] == [25]
    ids = s4e("services", "list", "-q", "--service", "ssh").stdout.split()
    assert len(ids) == 1 and ids[0].startswith("svc_")

    detail = s4e("services", "get", ids[0])
    assert detail.exit_code == 0 and "OpenSSH" in detail.stdout and "first_seen_at" in detail.stdout
    assert s4e_json("services", "get", ids[0])["asset_id"] == web
    assert s4e("services", "get", ids[0], "-q").stdout.strip() == ids[0]
    assert s4e("services", "get", "svc_01hv8x5m3t9q4zc2n7k1r6pbde").exit_code == 3

    own = s4e("assets", "services", web, "--sort-by", "port", "--sort-order", "asc")
    assert own.exit_code == 0 and "HTTP" not in own.stdout and "nginx" in own.stdout and "2 total" in own.stdout
    assert [s["port"] for s in s4e_json("assets", "services", web, "--sort-by", "port")] == [443, 22]
    assert s4e("assets", "services", web, "--port", "25", "-q").stdout.split() == []
    assert s4e("assets", "services", "ast_01hv8x5m3t9q4zc2n7k1r6pbde").exit_code == 3
    bad = s4e("services", "list", "--protocol", "sctp")
    assert bad.exit_code == 1 and "invalid_parameter" in bad.stderr
    denied = s4e("services", "list", S4E_API_KEY=platform.tenant.key(["read:events"]), key=None)
    assert denied.exit_code == 1 and "insufficient_scope" in denied.stderr


def test_assets_import_nmap(s4e, s4e_json, tmp_path):
    path = tmp_path / "scan.xml"
    path.write_bytes(b'<?xml version="1.0"?><nmaprun scanner="nmap" version="7.93"><host><status state="up"/>'
                     b'<address addr="93.184.216.41" addrtype="ipv4"/><ports><port protocol="tcp" portid="3306">'
                     b'<state state="open"/><service name="mysql"/></port></ports></host></nmaprun>')
    asset = s4e("assets", "create", "93.184.216.41", "--type", "ip", "-q").stdout.strip()
    done = s4e("assets", "import-nmap", asset, str(path))
    assert done.exit_code == 0, done.output
    assert "1 open of 1 port(s); findings new 1" in done.stderr
    again = s4e_json("assets", "import-nmap", asset, str(path))
    assert again["finding_counts"]["seen"] == 1 and again["scan"]["status"] == "completed"
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<html/>")
    refused = s4e("assets", "import-nmap", asset, str(bad))
    assert refused.exit_code == 1 and "nmaprun" in refused.stderr  # an API error, explained
