"""Scan profile CRUD and validation (api.md 2.4, scanning.md 3)."""

from __future__ import annotations

from s4e_platform.kit.ids import new_id

from tests.scan_profile.conftest import API, load_profile, make_asset, make_profile, scans_of


def _post(client, tenant, body, role="admin"):
    return client.post(f"{API}/scan-profiles", json=body, headers=tenant.headers(role))


def _details(r) -> list[tuple[str, str]]:
    return [(d["path"], d.get("code")) for d in r.json()["error"]["details"]]


def test_create_get_list_and_schedule(client, tenant, domain):
    body = {"name": "weekly-external", "description": "External surface", "scan_type": "custom",
            "scanners": ["port_scan", "tls", "email_security"], "options": {"ports": "top-100"},
            "priority": "high", "scope": {"tags": ["production"], "asset_types": ["domain", "url"],
                                          "include_children": True, "exclude_tags": ["do-not-scan"]},
            "schedule": {"cron": "0  2 * * 1", "timezone": "Europe/Istanbul", "until": "2030-12-31T00:00:00Z",
                         "skip_windows": [{"cron": "0 8 * * 1-5", "duration_minutes": 600}], "on_skip": "defer"},
            "post_scan_actions": [
                {"on": "new_findings", "conditions": {"min_severity": "high"},
                 "playbook_id": "pbk_01HV8X5M3T9Q4ZC2N7K1R6PBDE"},
                {"on": "failed", "action_ref": "slack.notify", "parameters": {"text": "Scan {{ scan.id }} failed"}}]}
    r = _post(client, tenant, body)
    assert r.status_code == 201, r.text
    created = r.json()["data"]
    assert r.headers["Location"] == f"/api/v1/scan-profiles/{created['id']}"
    assert created["id"].startswith("prf_") and created["priority"] == "high"
    assert created["schedule"]["cron"] == "0 2 * * 1"  # normalised
    assert created["schedule"]["until"] == "2030-12-31T00:00:00.000Z"
    assert created["post_scan_actions"][0]["playbook_id"] == "pbk_01hv8x5m3t9q4zc2n7k1r6pbde"
    # Monday 02:00 in Istanbul (UTC+3) is Sunday 23:00 UTC.
    assert created["next_run_at"].endswith("T23:00:00.000Z")
    got = client.get(f"{API}/scan-profiles/{created['id']}", headers=tenant.headers("viewer")).json()["data"]
    assert got == created
    listed = client.get(f"{API}/scan-profiles", params={"search": "EXTERNAL"}, headers=tenant.headers()).json()
    assert [p["id"] for p in listed["data"]] == [created["id"]] and listed["meta"]["total"] == 1
    assert client.get(f"{API}/scan-profiles", params={"enabled": "false"},
                      headers=tenant.headers()).json()["data"] == []


def test_name_unique_per_workspace(client, tenant, other_tenant, domain):
    make_profile(client, tenant, "nightly", scope={"asset_ids": [domain["id"]]})
    r = _post(client, tenant, {"name": "nightly", "scan_type": "dns", "scope": {"asset_types": ["domain"]}})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_exists"
    other = make_asset(client, other_tenant, "example.org")
    make_profile(client, other_tenant, "nightly", scope={"asset_ids": [other["id"]]})


def test_validation_errors_name_the_field(client, tenant, domain):
    base = {"name": "p", "scan_type": "custom", "scanners": ["email_security"], "scope": {"asset_ids": [domain["id"]]}}
    cases = [
        ({"scope": {"asset_ids": [domain["id"], new_id("ast")]}}, ("$.scope.asset_ids[1]", "not_found")),
        ({"scope": {"asset_ids": ["nope"]}}, ("$.scope.asset_ids[0]", "invalid_id")),
        ({"scope": {}}, ("$.scope", None)),
        ({"scanners": ["email_security", "no_such"]}, ("$.scanners[1]", "unknown_scanner")),
        ({"scanners": None}, ("$.scanners", "required")),
        ({"scan_type": "dns", "scanners": ["dns"]}, ("$.scanners", "not_allowed")),
        ({"options": {"no_such_option": 1}}, ("$.options.no_such_option", "unknown_field")),
        ({"scanners": ["port_scan"], "options": {"ports": "not-a-port"}}, ("$.options.ports", None)),
        ({"schedule": {"cron": "0 2 * *"}}, ("$.schedule.cron", None)),
        ({"schedule": {"cron": "0 0 30 2 *"}}, ("$.schedule.cron", None)),
        ({"schedule": {"cron": "0 2 * * 1", "timezone": "Mars/Olympus"}}, ("$.schedule.timezone", None)),
        ({"schedule": {"cron": "0 2 * * 1", "skip_windows": [{"cron": "0 8 * * *", "duration_minutes": 0}]}},
         ("$.schedule.skip_windows[0].duration_minutes", None)),
        ({"schedule": {"cron": "0 2 * * 1", "skip_windows": [{"cron": "0 8 * * *", "duration_minutes": 10081}]}},
         ("$.schedule.skip_windows[0].duration_minutes", None)),
        ({"schedule": {"cron": "0 2 * * 1", "on_skip": "later"}}, ("$.schedule.on_skip", None)),
        ({"post_scan_actions": [{"on": "completed"}]}, ("$.post_scan_actions[0]", None)),
        ({"post_scan_actions": [{"on": "completed", "action_ref": "a.b",
                                 "playbook_id": "pbk_01hv8x5m3t9q4zc2n7k1r6pbde"}]}, ("$.post_scan_actions[0]", None)),
        ({"post_scan_actions": [{"on": "started", "action_ref": "a.b"}]}, ("$.post_scan_actions[0].on", None)),
        ({"post_scan_actions": [{"on": "new_findings", "action_ref": "a.b",
                                 "conditions": {"min_severity": "severe"}}]},
         ("$.post_scan_actions[0].conditions.min_severity", None)),
        ({"unknown": 1}, ("$.unknown", None)),
    ]
    for change, (path, code) in cases:
        r = _post(client, tenant, {**base, **change})
        assert r.status_code == 422, (change, r.text)
        found = _details(r)
        assert any(p == path and (code is None or c == code) for p, c in found), (change, found)
    assert client.get(f"{API}/scan-profiles", headers=tenant.headers()).json()["meta"]["total"] == 0


def test_scanners_must_fit_some_asset_type_in_scope(client, tenant):
    ip = make_asset(client, tenant, "192.0.2.7", "ip")
    r = _post(client, tenant, {"name": "p", "scan_type": "custom", "scanners": ["email_security"],
                               "scope": {"asset_ids": [ip["id"]]}})
    assert r.status_code == 422 and _details(r)[0][1] == "unsupported_target"
    # A mixed profile is fine: each asset runs the scanners that fit its type.
    make_profile(client, tenant, "mixed", scanners=["email_security", "port_scan"],
                 scope={"asset_types": ["domain", "ip"]})


def test_patch_merges_top_level_keys_and_reschedules(client, tenant, domain):
    p = make_profile(client, tenant, scope={"asset_ids": [domain["id"]]},
                     schedule={"cron": "0 3 * * *", "skip_windows": [{"cron": "0 8 * * *", "duration_minutes": 60}]})
    assert p["next_run_at"].endswith("T03:00:00.000Z")
    url = f"{API}/scan-profiles/{p['id']}"
    r = client.patch(url, json={"schedule": {"cron": "30 4 * * *"}}, headers=tenant.headers())
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    # The schedule key is replaced whole: its skip windows are gone, scope and scanners untouched.
    assert data["schedule"]["skip_windows"] == [] and data["next_run_at"].endswith("T04:30:00.000Z")
    assert data["scope"]["asset_ids"] == [domain["id"]] and data["scanners"] == ["email_security"]
    assert client.patch(url, json={"enabled": False}, headers=tenant.headers()).json()["data"]["next_run_at"] is None
    data = client.patch(url, json={"enabled": True, "name": "renamed"}, headers=tenant.headers()).json()["data"]
    assert data["next_run_at"] is not None and data["name"] == "renamed"
    data = client.patch(url, json={"schedule": None}, headers=tenant.headers()).json()["data"]
    assert data["schedule"] is None and data["next_run_at"] is None
    # Invalid changes are 422 and change nothing.
    r = client.patch(url, json={"scan_type": "custom", "scanners": ["nope"], "name": "other"},
                     headers=tenant.headers())
    assert r.status_code == 422
    assert client.patch(url, json={"name": None}, headers=tenant.headers()).status_code == 422
    assert load_profile(p["id"]).name == "renamed"
    make_profile(client, tenant, "taken", scope={"asset_ids": [domain["id"]]})
    r = client.patch(url, json={"name": "taken"}, headers=tenant.headers())
    assert r.status_code == 409


def test_delete_keeps_the_scans(client, tenant, domain):
    p = make_profile(client, tenant, scope={"asset_ids": [domain["id"]]})
    run = client.post(f"{API}/scan-profiles/{p['id']}/run", headers=tenant.headers()).json()["data"]
    assert len(run) == 1
    r = client.delete(f"{API}/scan-profiles/{p['id']}", headers=tenant.headers())
    assert r.status_code == 204 and r.content == b""
    assert client.get(f"{API}/scan-profiles/{p['id']}", headers=tenant.headers()).status_code == 404
    scan = client.get(f"{API}/scans/{run[0]['id']}", headers=tenant.headers()).json()["data"]
    assert scan["profile_id"] is None
    assert scans_of(p["id"]) == []


def test_scopes_roles_and_workspaces(client, tenant, other_tenant, domain):
    p = make_profile(client, tenant, scope={"asset_ids": [domain["id"]]})
    body = {"name": "v", "scan_type": "dns", "scope": {"asset_types": ["domain"]}}
    assert _post(client, tenant, body, role="viewer").status_code == 403
    assert _post(client, tenant, body, role="analyst").status_code == 201
    reader = tenant.key(["read:scans"])
    r = client.get(f"{API}/scan-profiles/{p['id']}", headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 200
    r = client.post(f"{API}/scan-profiles/{p['id']}/run", headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 403
    for method in ("get", "patch", "delete"):
        r = client.request(method.upper(), f"{API}/scan-profiles/{p['id']}", headers=other_tenant.headers(),
                           json={"enabled": False} if method == "patch" else None)
        assert r.status_code == 404, method


def test_key_restricted_to_assets_cannot_define_profiles(client, tenant, domain):
    restricted = tenant.key(["write:scans"], asset_restriction={"asset_ids": [domain["id"]], "tags": []})
    r = client.post(f"{API}/scan-profiles", headers={"Authorization": f"Bearer {restricted}"},
                    json={"name": "r", "scan_type": "dns", "scope": {"asset_ids": [domain["id"]]}})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
