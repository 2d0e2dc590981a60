"""POST /scans: scan types -> scanners, options, eligibility, validation (api.md 2.4, scanning.md 1.1-2.2)."""

from __future__ import annotations

import pytest

from tests.fixtures.asset import create_asset
from tests.scan.conftest import SCANS, events_of, scan_count, task_rows, verified_asset

DOMAIN_ALL = ["port_scan", "tls", "http_headers", "exposed_files", "dns", "email_security", "subdomain_discovery"]


@pytest.mark.parametrize(("scan_type", "extra", "expected"), [
    ("full", {}, DOMAIN_ALL),
    ("quick", {}, ["port_scan", "tls"]),
    ("port", {}, ["port_scan"]),
    ("ssl", {}, ["tls"]),
    ("dns", {}, ["dns", "email_security", "subdomain_discovery"]),
    ("web", {}, ["http_headers", "exposed_files"]),
    ("custom", {"scanners": ["dns", "tls", "dns"]}, ["dns", "tls"]),
    ("custom", {"options": {"categories": ["ssl", "headers"]}}, ["tls", "http_headers", "exposed_files"]),
])
def test_scan_types_resolve_to_existing_scanners(client, tenant, domain, create, scan_type, extra, expected):
    scan = create(domain["id"], scan_type, **extra)
    assert scan["scanners"] == expected and scan["scan_type"] == scan_type
    assert scan["status"] == "queued" and scan["progress"] == 0 and scan["priority"] == "normal"
    assert scan["asset"] == {"id": domain["id"], "name": "example.com", "type": "domain"}
    assert scan["task_summary"] == {"total": len(expected), "queued": len(expected), "running": 0, "completed": 0,
                                    "failed": 0, "cancelled": 0}
    assert scan["options"]["timeout"] == 3600 and scan["estimated_duration_minutes"] is None
    assert scan["triggered_by"] == {"type": "api_key", "id": scan["triggered_by"]["id"]}
    assert scan["created_by"] == tenant.users["admin"] and scan["rerun_of"] is None
    tasks = task_rows(scan["id"])
    assert [t.scanner for t in tasks] == expected
    assert all(t.target == {"type": "domain", "value": "example.com"} and t.status == "queued" for t in tasks)
    assert client.get(f"{SCANS}/{scan['id']}", headers=tenant.headers()).json()["data"] == scan


def test_quick_scan_defaults_to_top_100_ports_unless_told(create, domain):
    assert create(domain["id"], "quick")["options"]["ports"] == "top-100"
    assert create(domain["id"], "quick", options={"ports": "22,443"})["options"]["ports"] == "22,443"
    assert "ports" not in create(domain["id"], "port")["options"]


@pytest.mark.parametrize(("name", "type", "expected"), [
    ("203.0.113.7", "ip", ["port_scan", "tls"]),
    ("https://app.example.com/login", "url", ["port_scan", "tls", "http_headers", "exposed_files"]),
    ("198.51.100.0/24", "network", ["port_scan"]),
])
def test_full_scan_depends_on_the_asset_type(client, tenant, create, name, type, expected):
    asset = verified_asset(client, tenant, name, type)
    scan = create(asset["id"], "full")
    assert scan["scanners"] == expected
    assert {t.target["value"] for t in task_rows(scan["id"])} == {asset["name"]}


def test_scan_created_event(client, tenant, domain, create):
    scan = create(domain["id"], "ssl", priority="high")
    [event] = events_of("scan.created")
    assert event.data == {"scan_id": scan["id"], "asset_id": domain["id"], "scan_type": "ssl", "profile_id": None,
                          "priority": "high", "triggered_by": scan["triggered_by"]}
    assert event.asset_id == domain["id"] and event.workspace_id == tenant.workspace_id
    assert event.actor == {"type": "api_key", "id": scan["triggered_by"]["id"], "name": "admin-key"}


def _error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text
    return r.json()["error"]


@pytest.mark.parametrize(("body", "path", "code"), [
    ({"scan_type": "custom", "scanners": ["tls", "nuclei"]}, "$.scanners[1]", "unknown_scanner"),
    ({"scan_type": "custom"}, "$.scanners", "required"),
    ({"scan_type": "custom", "scanners": ["tls"], "options": {"categories": ["web"]}}, "$.options.categories",
     "not_allowed"),
    ({"scan_type": "custom", "options": {"categories": ["web", "mail"]}}, "$.options.categories[1]",
     "unknown_category"),
    ({"scan_type": "ssl", "scanners": ["tls"]}, "$.scanners", "not_allowed"),
    ({"scan_type": "port", "options": {"ports": "1-70000"}}, "$.options.ports", "value_error"),
    ({"scan_type": "ssl", "options": {"tls_port": "443"}}, "$.options.tls_port", "unknown_field"),
    ({"scan_type": "ssl", "options": {"timeout": 59}}, "$.options.timeout", "greater_than_equal"),
    ({"scan_type": "ssl", "options": {"timeout": 86401}}, "$.options.timeout", "less_than_equal"),
    ({"scan_type": "crawl"}, "$.scan_type", "no_applicable_scanner"),
    ({"scan_type": "ssl", "callback_url": "http://93.184.216.34/s4e"}, "$.callback_url", "insecure_scheme"),
    ({"scan_type": "ssl", "callback_url": "https://10.0.0.5/hook"}, "$.callback_url", "ssrf_blocked"),
    ({"scan_type": "ssl", "callback_url": "https://93.184.216.34/s4e"}, "$.callback_url", "not_supported"),
    ({"scan_type": "ssl", "priority": "urgent"}, "$.priority", "literal_error"),
    ({"scan_type": "ssl", "asset_id": "ast_01hv8x5m3t9q4zc2n7k1r6pbde"}, "$.asset_id", "not_found"),
])
def test_invalid_scans_are_422_naming_the_field_and_change_nothing(client, tenant, domain, body, path, code):
    error = _error(client.post(SCANS, json={"asset_id": domain["id"], **body}, headers=tenant.headers()), 422,
                   "validation_error")
    assert any(d["path"] == path and d["code"] == code for d in error["details"]), error
    assert scan_count() == 0 and events_of("scan.created") == []


def test_scanner_that_cannot_scan_the_asset_type(client, tenant, create):
    ip = verified_asset(client, tenant, "203.0.113.9", "ip")
    error = _error(client.post(SCANS, json={"asset_id": ip["id"], "scan_type": "custom",
                                            "scanners": ["port_scan", "dns"]}, headers=tenant.headers()),
                   422, "validation_error")
    assert error["details"][0]["path"] == "$.scanners[1]" and error["details"][0]["code"] == "unsupported_target"
    assert _error(client.post(SCANS, json={"asset_id": ip["id"], "scan_type": "dns"}, headers=tenant.headers()),
                  422, "validation_error")["details"][0]["code"] == "no_applicable_scanner"


def test_active_scanners_need_a_verified_asset(client, tenant, create):
    asset = create_asset(client, tenant, "unverified.example.com")
    error = _error(client.post(SCANS, json={"asset_id": asset["id"], "scan_type": "dns"}, headers=tenant.headers()),
                   422, "asset_not_verified")
    assert [d["scanner"] for d in error["details"]] == ["dns"] and "dns" in error["message"]
    assert scan_count() == 0
    # Passive scanners run on any asset.
    scan = create(asset["id"], "custom", scanners=["email_security", "subdomain_discovery"])
    assert scan["scanners"] == ["email_security", "subdomain_discovery"]
    # Verification revoked later: a rerun is refused the same way.
    verified = verified_asset(client, tenant, "later.example.com")
    first = create(verified["id"], "ssl")
    assert client.delete(f"/api/v1/assets/{verified['id']}/verification", headers=tenant.headers()).status_code == 204
    _error(client.post(f"{SCANS}/{first['id']}/rerun", headers=tenant.headers()), 422, "asset_not_verified")


def test_options_are_kept(client, tenant, domain, create):
    scan = create(domain["id"], "custom", scanners=["http_headers"],
                  options={"headers": {"Authorization": "Bearer x"}, "rate_limit": 5, "timeout": 120})
    assert scan["callback_url"] is None
    assert scan["options"] == {"headers": {"Authorization": "Bearer x"}, "rate_limit": 5, "timeout": 120}


def test_unknown_fields_and_other_workspaces_assets(client, tenant, other_tenant, domain):
    _error(client.post(SCANS, json={"asset_id": domain["id"], "scan_type": "ssl", "target": "x"},
                       headers=tenant.headers()), 422, "validation_error")
    # Another workspace's asset is as unknown as a missing one.
    error = _error(client.post(SCANS, json={"asset_id": domain["id"], "scan_type": "ssl"},
                               headers=other_tenant.headers()), 422, "validation_error")
    assert error["details"][0]["path"] == "$.asset_id"
    # A viewer may read scans but not start them.
    _error(client.post(SCANS, json={"asset_id": domain["id"], "scan_type": "ssl"}, headers=tenant.headers("viewer")),
           403, "insufficient_scope")
    assert scan_count() == 0


def test_post_scans_is_limited_to_10_per_minute(client, tenant, domain, settings, monkeypatch):
    from s4e_platform.kit import ratelimit

    settings.rate_limit_enabled = True
    monkeypatch.setattr(ratelimit, "now", lambda: 1_900_000_000.0)
    body = {"asset_id": domain["id"], "scan_type": "ssl"}
    statuses = [client.post(SCANS, json=body, headers=tenant.headers()).status_code for _ in range(11)]
    assert statuses == [201] * 10 + [429]
    assert client.get(SCANS, headers=tenant.headers()).status_code == 200  # reads are not in that bucket
