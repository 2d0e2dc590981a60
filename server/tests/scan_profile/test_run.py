"""POST /scan-profiles/{id}/run: one scan per in-scope asset, skips reported (api.md 2.4, scanning.md 1.1)."""

from __future__ import annotations

from s4e_platform.db.session import unit_of_work
from s4e_platform.event.models import Event
from sqlalchemy import select

from tests.scan_profile.conftest import API, load_profile, make_asset, make_profile, scans_of


def _run(client, tenant, profile_id, headers=None):
    return client.post(f"{API}/scan-profiles/{profile_id}/run", headers=headers or tenant.headers())


def test_run_creates_one_scan_per_asset_and_reports_skips(client, tenant):
    verified = make_asset(client, tenant, "example.com", tags=["web"], verified=True)
    unverified = make_asset(client, tenant, "example.net", tags=["web"])
    ip = make_asset(client, tenant, "192.0.2.5", "ip", tags=["web"], verified=True)
    p = make_profile(client, tenant, scanners=["port_scan", "email_security"], priority="high",
                     scope={"tags": ["web"]})
    r = _run(client, tenant, p["id"])
    assert r.status_code == 201, r.text
    body = r.json()
    by_asset = {s["asset_id"]: s for s in body["data"]}
    assert set(by_asset) == {verified["id"], ip["id"]}
    # Each asset runs the profile's scanners that fit its type.
    assert by_asset[verified["id"]]["scanners"] == ["port_scan", "email_security"]
    assert by_asset[ip["id"]]["scanners"] == ["port_scan"]
    for scan in body["data"]:
        assert scan["profile_id"] == p["id"] and scan["priority"] == "high" and scan["status"] == "queued"
        assert scan["triggered_by"]["type"] == "api_key"
    assert body["meta"]["in_scope"] == 3
    assert [(s["asset_id"], s["reason"]) for s in body["meta"]["skipped"]] == [
        (unverified["id"], "asset_not_verified")]
    assert load_profile(p["id"]).last_run_at is not None
    with unit_of_work(readonly=True) as s:
        created = list(s.execute(select(Event).where(Event.event == "scan.created")).scalars())
    assert {e.data["asset_id"] for e in created} == {verified["id"], ip["id"]}
    assert all(e.data["profile_id"] == p["id"] for e in created)


def test_second_run_skips_assets_with_a_queued_scan_of_the_profile(client, tenant):
    a = make_asset(client, tenant, "example.com")
    p = make_profile(client, tenant, scope={"asset_ids": [a["id"]]})
    other = make_profile(client, tenant, "other", scope={"asset_ids": [a["id"]]})
    assert len(_run(client, tenant, p["id"]).json()["data"]) == 1
    again = _run(client, tenant, p["id"]).json()
    assert again["data"] == [] and again["meta"]["skipped"][0]["reason"] == "already_running"
    # Another profile's scan does not block this one.
    assert len(_run(client, tenant, other["id"]).json()["data"]) == 1
    assert len(scans_of(p["id"])) == 1


def test_passive_profile_runs_on_unverified_assets(client, tenant):
    a = make_asset(client, tenant, "example.com")
    p = make_profile(client, tenant, scanners=["email_security"], scope={"asset_ids": [a["id"]]})
    data = _run(client, tenant, p["id"]).json()["data"]
    assert [s["scanners"] for s in data] == [["email_security"]]


def test_empty_scope_is_422(client, tenant, domain):
    p = make_profile(client, tenant, scope={"tags": ["nothing-has-this"]})
    r = _run(client, tenant, p["id"])
    assert r.status_code == 422 and r.json()["error"]["details"][0] == {
        "path": "$.scope", "message": "the profile's scope matches no asset", "code": "empty_scope"}
    assert scans_of(p["id"]) == []


def test_restricted_key_runs_only_its_assets(client, tenant):
    mine = make_asset(client, tenant, "mine.example.com", tags=["web"])
    make_asset(client, tenant, "theirs.example.com", tags=["web"])
    p = make_profile(client, tenant, scope={"tags": ["web"]})
    key = tenant.key(["write:scans"], asset_restriction={"asset_ids": [mine["id"]], "tags": []})
    r = _run(client, tenant, p["id"], headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 201, r.text
    assert [s["asset_id"] for s in r.json()["data"]] == [mine["id"]] and r.json()["meta"]["in_scope"] == 1


def test_run_shares_the_scan_creation_rate_limit(client, tenant, settings):
    settings.rate_limit_enabled = True
    a = make_asset(client, tenant, "example.com")
    p = make_profile(client, tenant, scope={"asset_ids": [a["id"]]})
    for _ in range(10):
        assert _run(client, tenant, p["id"]).status_code == 201
    r = _run(client, tenant, p["id"])
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    r = client.post(f"{API}/scans", json={"asset_id": a["id"], "scan_type": "custom",
                                          "scanners": ["email_security"]}, headers=tenant.headers())
    assert r.status_code == 429
