"""`s4e scanners` against the real app in-process: table, --json, --quiet, filters and exit codes."""

from __future__ import annotations


def test_scanners_list_and_get(s4e, s4e_json, platform):
    table = s4e("scanners", "list", key="viewer")
    assert table.exit_code == 0, table.output
    assert "port_scan" in table.stdout and "network" in table.stdout and "total" in table.stdout
    ids = s4e("scanners", "list", "-q", "--sort-by", "id", "--sort-order", "asc").stdout.split()
    assert ids == sorted(ids) and {"port_scan", "tls", "dns"} <= set(ids)
    passive = s4e_json("scanners", "list", "--passive", "--category", "dns,discovery", "--all")
    assert passive and all(s["active"] is False for s in passive)
    assert "email_security" in {s["id"] for s in passive}
    assert s4e("scanners", "list", "--target-type", "ip", "--search", "port", "-q").stdout.split() == ["port_scan"]
    detail = s4e("scanners", "get", "port_scan")
    assert detail.exit_code == 0 and "options_schema" in detail.stdout and "port_scanning" in detail.stdout
    shown = s4e_json("scanners", "get", "tls")
    assert shown["category"] == "tls" and "tls_ports" in shown["options_schema"]["properties"]
    assert s4e("scanners", "get", "tls", "-q").stdout.strip() == "tls"
    assert s4e("scanners", "get", "nuclei").exit_code == 3
    assert s4e("scanners", "list", "--category", "bogus").exit_code == 1
    denied = s4e("scanners", "list", S4E_API_KEY=platform.tenant.key(["read:assets"]), key=None)
    assert denied.exit_code == 1 and "insufficient_scope" in denied.stderr
