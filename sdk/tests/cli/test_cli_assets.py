"""`s4e assets bulk`, the verification commands and list filters against the real app in-process."""

from __future__ import annotations

import json


def test_bulk_create_update_delete(s4e, s4e_json, tmp_path):
    items = tmp_path / "assets.json"
    items.write_text(json.dumps([{"name": "b1.example.com", "type": "domain", "tags": ["prod"]},
                                 {"name": "b2.example.com", "type": "domain"},
                                 {"name": "not a domain", "type": "domain"}]))
    refused = s4e("assets", "bulk", "create", str(items))
    assert refused.exit_code == 1 and "$.items[2].name" in refused.stderr
    assert s4e("assets", "list", "-q").stdout.split() == []  # all-or-nothing
    created = s4e("assets", "bulk", "create", str(items), "--partial")
    assert created.exit_code == 0, created.output
    assert created.stdout.count("created") == 2 and "$.items[2].name" in created.stdout
    assert "created 2" in created.stderr and "errors 1" in created.stderr
    ids = s4e("assets", "list", "-q", "--sort-by", "name", "--sort-order", "asc").stdout.split()
    update = json.dumps([{"id": ids[0], "criticality": "critical"}, {"id": ids[1], "tags": ["staging"]}])
    updated = s4e_json("assets", "bulk", "update", "-", input=update)
    assert updated["counts"]["updated"] == 2
    assert s4e_json("assets", "list", "--criticality", "critical")[0]["id"] == ids[0]
    assert [a["id"] for a in s4e_json("assets", "list", "--tag", "staging")] == [ids[1]]
    assert s4e("assets", "bulk", "delete", "-", input=json.dumps(ids)).exit_code == 2  # needs --yes (no tty)
    deleted = s4e("assets", "bulk", "delete", "-", "--yes", "-q", input=json.dumps([ids[0], {"id": ids[1]}]))
    assert deleted.exit_code == 0 and sorted(deleted.stdout.split()) == sorted(ids)
    for bad in ("{}", "[]", "not json", json.dumps([{"name": "x.example.com", "type": "domain", "colour": 1}])):
        result = s4e("assets", "bulk", "create", "-", input=bad)
        assert result.exit_code == 2 and "Traceback" not in result.output, bad
    assert s4e("assets", "bulk", "rename", "-", input="[]").exit_code == 2


def test_verification_commands(s4e, s4e_json, zone):
    asset_id = s4e("assets", "create", "mine.example.com", "--type", "domain", "-q").stdout.strip()
    shown = s4e("assets", "verification", asset_id)
    assert shown.exit_code == 0 and "dns_txt" in shown.stdout and "http_file" in shown.stdout
    token = s4e("assets", "verification", asset_id, "-q").stdout.strip()
    assert token.startswith("s4e-verification=")
    info = s4e_json("assets", "verification", asset_id)
    dns = next(m for m in info["methods"] if m["method"] == "dns_txt")
    failed = s4e("assets", "verify", asset_id, "--method", "dns_txt")
    assert failed.exit_code == 1 and "verification_failed" in failed.stderr
    zone.txt[dns["record_name"].rstrip(".")] = [dns["value"]]
    verified = s4e_json("assets", "verify", asset_id, "-m", "dns_txt")
    assert verified["verified"] is True and verified["verification"]["method"] == "dns_txt"
    assert s4e("assets", "revoke-verification", asset_id).exit_code == 0
    assert s4e_json("assets", "get", asset_id)["verified"] is False
    overridden = s4e("assets", "override-verification", asset_id, "--reason", "owned by the security team")
    assert overridden.exit_code == 0 and "override" in overridden.stdout
    assert s4e_json("assets", "list", "--verified")[0]["id"] == asset_id
    assert s4e("assets", "list", "--unverified", "-q").stdout.split() == []
    denied = s4e("assets", "override-verification", asset_id, "--reason", "analyst says so", key="analyst")
    assert denied.exit_code == 1 and "insufficient_scope" in denied.stderr


def test_list_filters_and_paging(s4e, s4e_json, platform):
    parent = s4e("assets", "create", "top.example.com", "--type", "domain", "-q").stdout.strip()
    s4e("assets", "create", "https://top.example.com/app", "--type", "url", "--parent-id", parent)
    s4e("assets", "create", "10.1.0.0/24", "--type", "network", "--owner-id", platform.tenant.users["viewer"])
    children = s4e_json("assets", "list", "--parent-id", parent)
    assert [a["type"] for a in children] == ["url"]
    owned = s4e_json("assets", "list", "--owner-id", platform.tenant.users["viewer"])
    assert [a["name"] for a in owned] == ["10.1.0.0/24"]
    assert len(s4e_json("assets", "list", "--source", "manual", "--from", "2020-01-01T00:00:00")) == 3
    assert s4e_json("assets", "list", "--to", "2020-01-01T00:00:00") == []
    page = s4e("assets", "list", "--per-page", "2", "--page", "2")
    assert page.exit_code == 0 and "Page 2/2" in page.stdout
    assert s4e("assets", "list", "--per-page", "101").exit_code == 2
    assert s4e("assets", "list", "--sort-order", "sideways").exit_code == 1
