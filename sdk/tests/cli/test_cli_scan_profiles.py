"""`s4e scan-profiles` against the real app in-process: files and flags, run, preview, exit codes."""

from __future__ import annotations

import json

import pytest

PROFILE_YAML = """
name: weekly-external
description: External surface, weekly
scope:
  tags: [web]
scan_type: custom
scanners: [email_security]
schedule:
  cron: "0 2 * * 1"
  timezone: Europe/Istanbul
  skip_windows:
    - {cron: "0 8 * * 1-5", duration_minutes: 600}
  on_skip: skip
post_scan_actions:
  - {on: failed, action_ref: slack.notify, parameters: {text: "failed"}}
"""


@pytest.fixture
def web_asset(platform) -> str:
    r = platform.http.post("/api/v1/assets", json={"name": "example.com", "type": "domain", "tags": ["web"]},
                           headers=platform.tenant.headers())
    assert r.status_code == 201, r.text
    return r.json()["data"]["id"]


def test_create_from_yaml_then_flags_override(s4e, s4e_json, tmp_path, web_asset):
    pytest.importorskip("yaml")
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE_YAML)
    created = s4e_json("scan-profiles", "create", "--file", str(path), "--priority", "high")
    assert created["name"] == "weekly-external" and created["priority"] == "high"
    assert created["schedule"]["timezone"] == "Europe/Istanbul" and created["post_scan_actions"][0]["on"] == "failed"
    table = s4e("scan-profiles", "list")
    assert table.exit_code == 0 and "weekly-external" in table.stdout and "0 2 * * 1" in table.stdout
    assert s4e("scan-profiles", "list", "-q").stdout.split() == [created["id"]]
    shown = s4e("scan-profiles", "get", created["id"])
    assert shown.exit_code == 0 and "Europe/Istanbul" in shown.stdout


def test_flags_only_create_update_run_preview_delete(s4e, s4e_json, web_asset):
    created = s4e_json("scan-profiles", "create", "nightly", "--scan-type", "custom", "--scanner", "email_security",
                       "--asset-id", web_asset, "--cron", "0 12 * * *", "--timezone", "Asia/Tokyo",
                       "--skip-window", "0 12 * * 6,0;30", "--option", "timeout=600")
    assert created["scope"]["asset_ids"] == [web_asset] and created["options"] == {"timeout": 600}
    assert created["schedule"]["skip_windows"] == [{"cron": "0 12 * * 6,0", "duration_minutes": 30}]
    pid = created["id"]

    preview = s4e_json("scan-profiles", "preview", pid, "--count", "7")
    assert len(preview["entries"]) == 7 and sum(e["skipped"] for e in preview["entries"]) == 2
    table = s4e("scan-profiles", "preview", pid, "-n", "3")
    assert table.exit_code == 0 and "Asia/Tokyo" in table.stdout and "+09:00" in table.stdout

    # Flags without --file change single keys of the stored scope/schedule.
    updated = s4e_json("scan-profiles", "update", pid, "--tag", "web", "--on-skip", "defer", "--disable")
    assert updated["scope"]["asset_ids"] == [web_asset] and updated["scope"]["tags"] == ["web"]
    assert updated["schedule"]["on_skip"] == "defer" and updated["schedule"]["timezone"] == "Asia/Tokyo"
    assert updated["enabled"] is False and updated["next_run_at"] is None
    cleared = s4e_json("scan-profiles", "update", pid, "--no-schedule", "--enable")
    assert cleared["schedule"] is None

    run = s4e("scan-profiles", "run", pid)
    assert run.exit_code == 0, run.output
    assert "1 scans started" in run.stdout and "email_security" in run.stdout
    again = s4e_json("scan-profiles", "run", pid)
    assert again["scans"] == [] and again["skipped"][0]["reason"] == "already_running"
    skipped = s4e("scan-profiles", "run", pid)
    assert "already_running" in skipped.stderr

    assert s4e("scan-profiles", "delete", pid, "--yes").exit_code == 0
    assert s4e("scan-profiles", "get", pid).exit_code == 3


def test_errors_and_exit_codes(s4e, tmp_path, web_asset):
    bad = s4e("scan-profiles", "create", "p", "--scan-type", "custom", "--scanner", "nope", "--asset-id", web_asset)
    assert bad.exit_code == 1 and "$.scanners[0]" in bad.stderr
    missing = s4e("scan-profiles", "create", "p", "--scanner", "email_security")
    assert missing.exit_code == 2
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"name": "p", "scan_type": "dns", "scope": {"asset_types": ["domain"]}, "typo": 1}))
    unknown = s4e("scan-profiles", "create", "--file", str(path))
    assert unknown.exit_code == 2 and "typo" in unknown.stderr
    window = s4e("scan-profiles", "create", "p", "--scan-type", "dns", "--asset-type", "domain",
                 "--cron", "0 1 * * *", "--skip-window", "0 1 * * *")
    assert window.exit_code == 2
    viewer = s4e("scan-profiles", "create", "p", "--scan-type", "dns", "--asset-type", "domain", key="viewer")
    assert viewer.exit_code == 1 and "insufficient_scope" in viewer.stderr
