"""API keys: shown once, stored hashed, scopes within the creator's role, owner-or-admin access, revocation,
effective permission = key scopes AND the owner's current role, expiry and asset restrictions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from s4e_platform.auth.models import ApiKey
from s4e_platform.db.session import unit_of_work
from s4e_platform.kit.crypto import sha256_hex
from sqlalchemy import select

from tests.fixtures.asset import create_asset
from tests.fixtures.workspace import console_headers, published

KEYS = "/api/v1/api-keys"


def _future(days: int = 30) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()


def test_key_is_shown_once_and_only_its_hash_is_stored(client, tenant):
    h = console_headers(tenant.users["developer"])
    r = client.post(KEYS, json={"name": "ci", "scopes": ["read:assets", "write:assets"],
                                "expires_at": _future()}, headers=h)
    assert r.status_code == 201, r.text
    created = r.json()["data"]
    key = created["key"]
    assert key.startswith("s4e_live_") and len(key) == len("s4e_live_") + 40 and key[9:].isalnum()
    assert created["prefix"] == key[9:17]
    assert created["user_id"] == tenant.users["developer"] and created["tier"] == "standard"
    assert r.headers["location"] == f"/api/v1/api-keys/{created['id']}"

    again = client.get(f"{KEYS}/{created['id']}", headers=h).json()["data"]
    assert "key" not in again and again["prefix"] == created["prefix"]
    listed = client.get(KEYS, headers=h).json()["data"]
    assert all("key" not in k for k in listed) and key not in str(listed)
    with unit_of_work(readonly=True) as s:
        row = s.execute(select(ApiKey).where(ApiKey.id == created["id"])).scalar_one()
        assert row.key_hash == sha256_hex(key)
        assert key not in str([getattr(row, c.key) for c in ApiKey.__table__.columns])

    assert client.post("/api/v1/assets", json={"name": "k.example.com", "type": "domain"},
                       headers={"X-API-Key": key}).status_code == 201
    events = published(client, tenant.headers(), "audit.api_key_created")
    mine = [e for e in events if e["data"]["target"]["id"] == created["id"]]
    assert len(mine) == 1 and key not in str(mine[0])
    assert mine[0]["actor"]["type"] == "user" and mine[0]["data"]["details"]["scopes"] == ["read:assets",
                                                                                            "write:assets"]


def test_invalid_requests_are_422_at_the_field_and_create_nothing(client, tenant, other_tenant):
    h = console_headers(tenant.users["admin"])
    before = client.get(KEYS, params={"all": "true"}, headers=h).json()["meta"]["total"]
    foreign = create_asset(client, other_tenant, name="foreign.example.com")
    cases = [
        ({"name": "x", "scopes": ["read:assets", "read:everything"]}, "$.scopes[1]"),
        ({"name": "x", "scopes": ["read:assets"], "expires_at": "2001-01-01T00:00:00Z"}, "$.expires_at"),
        ({"name": "x", "scopes": ["read:assets"], "asset_restriction": {"asset_ids": [foreign["id"]]}},
         "$.asset_restriction.asset_ids[0]"),
        ({"name": "x", "scopes": ["read:assets"], "asset_restriction": {"tags": ["Not A Tag!"]}},
         "$.asset_restriction.tags"),
        ({"name": "x", "scopes": ["read:assets"], "expires_at": "0001-01-01T00:00:00+14:00"}, "$.expires_at"),
        ({"name": "", "scopes": ["read:assets"]}, "$.name"),
        ({"name": "nul\u0000byte", "scopes": ["read:assets"]}, "$.name"),
        ({"name": "x", "description": "bell\u0007", "scopes": ["read:assets"]}, "$.description"),
        ({"name": "x", "scopes": []}, "$.scopes"),
        ({"name": "x", "scopes": ["read:assets"], "colour": "red"}, "$.colour"),
        ({"name": "x", "scopes": ["read:assets"], "tier": "platinum"}, "$.tier"),
    ]
    for body, path in cases:
        r = client.post(KEYS, json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["details"][0]["path"] == path, (body, r.json())
    assert client.get(KEYS, params={"all": "true"}, headers=h).json()["meta"]["total"] == before


def test_a_session_grants_only_scopes_of_its_role_and_keys_need_admin(client, tenant):
    viewer = console_headers(tenant.users["viewer"])
    r = client.post(KEYS, json={"name": "w", "scopes": ["read:assets", "write:assets"]}, headers=viewer)
    assert r.status_code == 403 and r.json()["error"]["details"] == {"required": ["write:assets"]}
    assert client.post(KEYS, json={"name": "r", "scopes": ["read:assets", "read:events"]},
                       headers=viewer).status_code == 201
    r = client.post(KEYS, json={"name": "fast", "scopes": ["read:assets"], "tier": "premium"}, headers=viewer)
    assert r.status_code == 403
    developer = console_headers(tenant.users["developer"])
    assert client.post(KEYS, json={"name": "a", "scopes": ["admin"]}, headers=developer).status_code == 403

    admin = console_headers(tenant.users["admin"])
    r = client.post(KEYS, json={"name": "big", "scopes": ["admin"], "tier": "enterprise"}, headers=admin)
    assert r.status_code == 201 and r.json()["data"]["tier"] == "enterprise"

    # A key without `admin` cannot manage keys at all, even its owner's.
    writer = tenant.key(["write:assets", "write:webhooks"])
    r = client.post(KEYS, json={"name": "child", "scopes": ["read:assets"]}, headers={"X-API-Key": writer})
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_scope"
    assert client.get(KEYS, headers={"X-API-Key": writer}).status_code == 403
    # A key with `admin` may create keys for its owner.
    r = client.post(KEYS, json={"name": "child", "scopes": ["read:assets"]}, headers=tenant.headers("admin"))
    assert r.status_code == 201 and r.json()["data"]["user_id"] == tenant.users["admin"]
    assert client.get(KEYS).status_code == 401


def test_list_is_own_keys_and_all_is_for_admins(client, tenant):
    dev = console_headers(tenant.users["developer"])
    made = client.post(KEYS, json={"name": "mine", "scopes": ["read:assets"]}, headers=dev).json()["data"]
    mine = client.get(KEYS, params={"sort_by": "name", "sort_order": "asc"}, headers=dev).json()
    assert [k["name"] for k in mine["data"]] == ["developer-key", "mine"]
    assert {k["user_id"] for k in mine["data"]} == {tenant.users["developer"]}
    assert client.get(KEYS, params={"all": "true"}, headers=dev).status_code == 403
    everyone = client.get(KEYS, params={"all": "true", "per_page": 100}, headers=tenant.headers()).json()
    assert everyone["meta"]["total"] == 5 and made["id"] in {k["id"] for k in everyone["data"]}
    assert client.get(KEYS, params={"all": "yes"}, headers=dev).status_code == 400


def test_get_and_rename_by_owner_or_admin_otherwise_404(client, tenant, other_tenant):
    dev = console_headers(tenant.users["developer"])
    key = client.post(KEYS, json={"name": "old", "scopes": ["read:assets"]}, headers=dev).json()["data"]
    url = f"{KEYS}/{key['id']}"
    assert client.get(url, headers=console_headers(tenant.users["analyst"])).status_code == 404
    assert client.patch(url, json={"name": "x"}, headers=console_headers(tenant.users["analyst"])).status_code == 404
    assert client.get(url, headers=other_tenant.headers()).status_code == 404
    assert client.delete(url, headers=other_tenant.headers()).status_code == 404
    assert client.get(url, headers=tenant.headers("admin")).status_code == 200

    r = client.patch(url, json={"name": "new", "description": "deploys"}, headers=dev)
    assert r.status_code == 200 and r.json()["data"]["name"] == "new"
    assert r.json()["data"]["description"] == "deploys"
    assert client.patch(url, json={"name": None}, headers=dev).status_code == 422
    assert client.patch(url, json={"scopes": ["admin"]}, headers=dev).status_code == 422
    assert client.get(url, headers=dev).json()["data"]["scopes"] == ["read:assets"]
    assert client.get(f"{KEYS}/key_01hv8x5m3t9q4zc2n7k1r6pbde", headers=dev).status_code == 404
    assert client.get(f"{KEYS}/ast_01hv8x5m3t9q4zc2n7k1r6pbde", headers=dev).status_code == 404


def test_revoked_key_gets_401_key_revoked(client, tenant):
    dev = console_headers(tenant.users["developer"])
    made = client.post(KEYS, json={"name": "tmp", "scopes": ["read:assets"]}, headers=dev).json()["data"]
    assert client.get("/api/v1/assets", headers={"X-API-Key": made["key"]}).status_code == 200
    assert client.delete(f"{KEYS}/{made['id']}", headers=dev).status_code == 204
    r = client.get("/api/v1/assets", headers={"Authorization": f"Bearer {made['key']}"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "key_revoked"
    assert client.get(f"{KEYS}/{made['id']}", headers=dev).json()["data"]["revoked_at"] is not None
    assert client.delete(f"{KEYS}/{made['id']}", headers=dev).status_code == 204  # idempotent
    revoked = [e for e in published(client, tenant.headers(), "audit.api_key_revoked")
               if e["data"]["target"]["id"] == made["id"]]
    assert len(revoked) == 1


def test_effective_permission_is_key_scopes_and_owners_current_role(client, tenant):
    key = {"X-API-Key": tenant.key(["read:assets", "write:assets"], role="developer")}
    assert client.post("/api/v1/assets", json={"name": "a.example.com", "type": "domain"},
                       headers=key).status_code == 201
    member = f"/api/v1/workspaces/{tenant.workspace_id}/members/{tenant.users['developer']}"
    assert client.patch(member, json={"role": "viewer"}, headers=tenant.headers()).status_code == 200
    r = client.post("/api/v1/assets", json={"name": "b.example.com", "type": "domain"}, headers=key)
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_scope"
    assert client.get("/api/v1/assets", headers=key).json()["meta"]["total"] == 1
    # A key never exceeds its own scopes, whatever the role.
    assert client.patch(member, json={"role": "admin"}, headers=tenant.headers()).status_code == 200
    assert client.get("/api/v1/events", headers=key).status_code == 403

    assert client.delete(member, headers=tenant.headers()).status_code == 204
    r = client.get("/api/v1/assets", headers=key)
    assert r.status_code == 401 and r.json()["error"]["code"] == "key_revoked"


def test_expired_key_is_401_token_expired(client, tenant):
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    key = tenant.key(["read:assets"], expires_at=past)
    r = client.get("/api/v1/assets", headers={"X-API-Key": key})
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"


def test_asset_restricted_key_sees_and_creates_only_its_assets(client, tenant):
    prod = create_asset(client, tenant, name="prod.example.com", tags=["prod"])
    dev = create_asset(client, tenant, name="dev.example.com", tags=["dev"])
    pinned = create_asset(client, tenant, name="pinned.example.com")
    r = client.post(KEYS, json={"name": "r", "scopes": ["read:assets", "write:assets"],
                                "asset_restriction": {"asset_ids": [pinned["id"].upper()], "tags": ["Prod"]}},
                    headers=tenant.headers())
    assert r.status_code == 201
    assert r.json()["data"]["asset_restriction"] == {"asset_ids": [pinned["id"]], "tags": ["prod"]}
    key = {"X-API-Key": r.json()["data"]["key"]}

    listed = client.get("/api/v1/assets", headers=key).json()
    assert {a["id"] for a in listed["data"]} == {prod["id"], pinned["id"]} and listed["meta"]["total"] == 2
    assert client.get(f"/api/v1/assets/{dev['id']}", headers=key).status_code == 404
    assert client.patch(f"/api/v1/assets/{dev['id']}", json={"criticality": "low"}, headers=key).status_code == 404
    assert client.get(f"/api/v1/assets/{prod['id']}", headers=key).status_code == 200

    r = client.post("/api/v1/assets", json={"name": "new.example.com", "type": "domain", "tags": ["prod"]},
                    headers=key)
    assert r.status_code == 201
    r = client.post("/api/v1/assets", json={"name": "other.example.com", "type": "domain", "tags": ["dev"]},
                    headers=key)
    assert r.status_code == 403
    # A restricted key cannot mint an unrestricted one, even with admin.
    admin_restricted = tenant.key(["admin"], asset_restriction={"asset_ids": [pinned["id"]], "tags": []})
    r = client.post(KEYS, json={"name": "escape", "scopes": ["read:assets"]},
                    headers={"X-API-Key": admin_restricted})
    assert r.status_code == 403


def test_key_naming_another_workspace_in_header_is_400(client, tenant, other_tenant):
    h = {**tenant.headers("viewer"), "X-S4E-Workspace": other_tenant.workspace_id}
    r = client.get("/api/v1/assets", headers=h)
    assert r.status_code == 400 and r.json()["error"]["code"] == "workspace_mismatch"
    h["X-S4E-Workspace"] = tenant.workspace_id.upper()
    assert client.get("/api/v1/assets", headers=h).status_code == 200


def test_last_use_is_recorded(client, tenant):
    dev = console_headers(tenant.users["developer"])
    made = client.post(KEYS, json={"name": "u", "scopes": ["read:assets"]}, headers=dev).json()["data"]
    assert made["last_used_at"] is None
    client.get("/api/v1/assets", headers={"X-API-Key": made["key"]})
    seen = client.get(f"{KEYS}/{made['id']}", headers=dev).json()["data"]
    assert seen["last_used_at"] is not None and seen["last_used_ip"] == "testclient"
