"""The `s4e` command against the real platform app in-process: tables, --json, --quiet, profiles and the
documented exit codes (1 API error, 2 usage error, 3 not found)."""

from __future__ import annotations

import json
import os
import stat

from s4e.cli.app import app

BASE_URL = "http://testserver/api/v1"


def test_assets_create_get_list_as_tables(s4e):
    result = s4e("assets", "create", "Shop.Example.com", "--type", "domain", "--tag", "prod", "--tag", "web")
    assert result.exit_code == 0, result.output
    assert "shop.example.com" in result.stdout and "pending_verification" in result.stdout
    assert "prod, web" in result.stdout
    asset_id = next(w for w in result.stdout.split() if w.startswith("ast_"))
    shown = s4e("assets", "get", asset_id)
    assert shown.exit_code == 0 and "shop.example.com" in shown.stdout and "criticality" in shown.stdout
    s4e("assets", "create", "10.0.0.1", "--type", "ip")
    listed = s4e("assets", "list")
    assert listed.exit_code == 0
    assert "shop.example.com" in listed.stdout and "10.0.0.1" in listed.stdout and "2 total" in listed.stdout
    assert "risk_score" in listed.stdout  # the column headers
    paged = s4e("assets", "list", "--per-page", "1", "--page", "2", "--sort-by", "name", "--sort-order", "asc")
    assert "shop.example.com" in paged.stdout and "10.0.0.1" not in paged.stdout and "Page 2/2" in paged.stdout


def test_assets_json_and_quiet(s4e):
    created = s4e("assets", "create", "a.example.com", "--type", "domain", "--criticality", "high", "--json")
    data = json.loads(created.stdout)
    assert created.exit_code == 0 and data["name"] == "a.example.com" and data["criticality"] == "high"
    assert data["created_at"].endswith("Z")
    quiet = s4e("assets", "create", "b.example.com", "--type", "domain", "-q")
    assert quiet.exit_code == 0 and quiet.stdout.strip().startswith("ast_") and len(quiet.stdout.split()) == 1
    listed = json.loads(s4e("assets", "list", "--json", "--all", "--per-page", "1").stdout)
    assert sorted(a["name"] for a in listed) == ["a.example.com", "b.example.com"]
    ids = s4e("assets", "list", "--quiet").stdout.split()
    assert sorted(ids) == sorted(a["id"] for a in listed)
    got = json.loads(s4e("assets", "get", data["id"], "--json").stdout)
    assert got["id"] == data["id"] and got["tags"] == []


def test_exit_codes_and_messages(s4e):
    missing = s4e("assets", "get", "ast_01hv8x5m3t9q4zc2n7k1r6pbde")
    assert missing.exit_code == 3
    assert "Error:" in missing.stderr and "not_found" in missing.stderr and "request req_" in missing.stderr
    as_json = s4e("assets", "get", "ast_01hv8x5m3t9q4zc2n7k1r6pbde", "--json")
    assert as_json.exit_code == 3 and json.loads(as_json.stderr)["error"]["code"] == "not_found"
    s4e("assets", "create", "10.0.0.1", "--type", "ip")
    duplicate = s4e("assets", "create", "10.0.0.1", "--type", "ip")
    assert duplicate.exit_code == 1 and "already_exists" in duplicate.stderr
    invalid = s4e("assets", "create", "10.0.0.1/24", "--type", "network")
    assert invalid.exit_code == 1 and "$.name" in invalid.stderr
    assert s4e("assets", "create", "x.example.com").exit_code == 2  # --type is required
    assert s4e("assets", "create", "x.example.com", "--type", "planet").exit_code == 2
    no_key = s4e("assets", "list", key=None)
    assert no_key.exit_code == 2 and "s4e login" in no_key.stderr
    denied = s4e("assets", "create", "v.example.com", "--type", "domain", key="viewer")
    assert denied.exit_code == 1 and "insufficient_scope" in denied.stderr
    for result in (missing, duplicate, invalid, no_key, denied):
        assert "Traceback" not in result.output


def test_connection_error_is_a_clean_api_error(runner, sleeps):
    result = runner.invoke(app, ["assets", "list"], env={"S4E_API_KEY": "s4e_live_x",
                                                              "S4E_BASE_URL": "http://127.0.0.1:9/api/v1"})
    assert result.exit_code == 1 and "connection_error" in result.stderr and "Traceback" not in result.output
    assert len(sleeps) == 3  # the default three retries happened first


def test_login_saves_a_private_profile_that_later_commands_use(s4e, platform, isolated_env):
    login = s4e("login", "--api-key", platform.tenant.keys["analyst"], "--base-url", BASE_URL, "--profile", "lab",
                key=None, S4E_BASE_URL=None)
    assert login.exit_code == 0, login.output
    assert "analyst" in login.stderr and "lab" in login.stderr
    path = isolated_env / "config" / "s4e" / "config.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["default_profile"] == "lab" and stored["profiles"]["lab"]["base_url"] == BASE_URL
    who = s4e("whoami", "--json", key=None, S4E_BASE_URL=None)
    assert who.exit_code == 0 and json.loads(who.stdout)["role"] == "analyst"
    profiles = json.loads(s4e("config", "list", "--json", key=None).stdout)
    assert profiles[0]["id"] == "lab" and platform.tenant.keys["analyst"] not in json.dumps(profiles)
    bad = s4e("login", "--api-key", "s4e_live_" + "x" * 40, "--base-url", BASE_URL, key=None)
    assert bad.exit_code == 1 and "invalid_token" in bad.stderr
    assert json.loads(path.read_text())["profiles"].keys() == {"lab"}  # a rejected key is not saved
    unknown = s4e("assets", "list", key=None, S4E_PROFILE="nope")
    assert unknown.exit_code == 2 and "No profile named 'nope'" in unknown.stderr


def test_assets_import_reports_rows(s4e, tmp_path):
    good = tmp_path / "assets.csv"
    good.write_text("name,type,tags,criticality,description,owner_email\n"
                    "c1.example.com,domain,a;b,high,,\nc2.example.com,domain,,low,,\n")
    result = s4e("assets", "import", str(good))
    assert result.exit_code == 0, result.output
    assert "created 2" in result.stderr
    assert len(s4e("assets", "list", "-q").stdout.split()) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("name,type\nc3.example.com,domain\nnot a domain,domain\n")
    failed = s4e("assets", "import", str(bad))
    assert failed.exit_code == 1 and "line 3" in failed.stderr
    assert s4e("assets", "import", str(tmp_path / "absent.csv")).exit_code == 2
