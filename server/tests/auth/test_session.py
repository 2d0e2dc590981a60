"""Console sessions: CSRF, refresh rotation, absolute limit, logout, /auth/me, password change."""

from __future__ import annotations

from datetime import timedelta

from s4e_platform.kit.clock import utcnow

from tests.auth.console import (
    audit_events,
    csrf,
    login,
    new_client,
    set_cookie_headers,
    signed_in,
    update_sessions,
)
from tests.fixtures.auth import PASSWORD

ASSET = {"name": "csrf.example.com", "type": "domain"}


def _ts(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_cookie_authenticated_writes_need_the_csrf_header(client, tenant):
    signed_in(client, tenant.emails["analyst"])
    r = client.post("/api/v1/assets", json=ASSET)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    r = client.post("/api/v1/assets", json=ASSET, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    assert client.get("/api/v1/assets").json()["meta"]["total"] == 0  # refused requests changed nothing
    r = client.post("/api/v1/assets", json=ASSET, headers=csrf(client))
    assert r.status_code == 201, r.text
    assert r.json()["data"]["created_by"] == tenant.users["analyst"]
    # Key-authenticated requests are exempt from CSRF.
    r = client.post("/api/v1/assets", json={"name": "key.example.com", "type": "domain"},
                    headers=tenant.headers())
    assert r.status_code == 201


def test_refresh_rotates_the_session_and_the_old_cookie_stops_working(app, client, tenant):
    first = signed_in(client, tenant.emails["viewer"])
    old_cookie = client.cookies.get("s4e_session")
    assert client.post("/api/v1/auth/refresh").status_code == 403  # CSRF applies to refresh too
    r = client.post("/api/v1/auth/refresh", headers=csrf(client))
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert set(data) == {"user", "workspaces", "csrf_token", "expires_at"}
    assert client.cookies.get("s4e_session") != old_cookie
    assert data["csrf_token"] != first["csrf_token"] and client.cookies.get("s4e_csrf") == data["csrf_token"]
    assert _ts(data["expires_at"]) >= _ts(first["expires_at"])
    assert "httponly" in set_cookie_headers(r)["s4e_session"].lower()

    stale = new_client(app, cookies={"s4e_session": old_cookie})
    r = stale.get("/api/v1/auth/me")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    assert client.get("/api/v1/auth/me").status_code == 200


def test_refresh_never_extends_past_the_absolute_limit(client, tenant):
    signed_in(client, tenant.emails["viewer"])
    # The session was opened almost 7 days ago: one hour of absolute lifetime remains.
    absolute = utcnow() + timedelta(hours=1)
    update_sessions(tenant.users["viewer"], created_at=utcnow() - timedelta(days=7) + timedelta(hours=1),
                    absolute_expires_at=absolute)
    r = client.post("/api/v1/auth/refresh", headers=csrf(client))
    assert r.status_code == 200
    assert abs((_ts(r.json()["data"]["expires_at"]) - absolute).total_seconds()) < 0.01

    update_sessions(tenant.users["viewer"], absolute_expires_at=utcnow() - timedelta(seconds=1))
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.post("/api/v1/auth/refresh", headers=csrf(client)).status_code == 401


def test_an_expired_session_is_refused(client, tenant):
    signed_in(client, tenant.emails["viewer"])
    update_sessions(tenant.users["viewer"], expires_at=utcnow() - timedelta(seconds=1))
    r = client.get("/api/v1/assets")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"


def test_logout_ends_the_session_and_clears_cookies(app, client, tenant):
    signed_in(client, tenant.emails["developer"])
    cookie = client.cookies.get("s4e_session")
    r = client.post("/api/v1/auth/logout", headers=csrf(client))
    assert r.status_code == 204 and r.content == b""
    cleared = set_cookie_headers(r)
    assert set(cleared) == {"s4e_session", "s4e_csrf"}
    assert all("max-age=0" in v.lower() for v in cleared.values())
    assert new_client(app, cookies={"s4e_session": cookie}).get("/api/v1/auth/me").status_code == 401
    assert [e["event"] for e in audit_events(client, tenant, "audit.logout")] == ["audit.logout"]


def test_session_only_calls_refuse_api_keys(client, tenant):
    for path in ("/api/v1/auth/refresh", "/api/v1/auth/logout", "/api/v1/auth/mfa/totp/setup"):
        r = client.post(path, headers=tenant.headers())
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", path
    assert client.post("/api/v1/auth/logout").status_code == 401


def test_me_describes_an_api_key(client, tenant):
    key = tenant.key(["read:assets", "write:findings", "admin"], role="viewer")
    r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200
    me = r.json()["data"]
    assert me["auth_method"] == "api_key" and me["key_id"].startswith("key_") and me["client_id"] is None
    assert me["user"]["id"] == tenant.users["viewer"] and me["role"] == "viewer"
    # Key scopes are cut down to what the viewer role may exercise.
    assert "read:assets" in me["scopes"] and "write:findings" not in me["scopes"] and "admin" not in me["scopes"]
    assert me["workspace"] == {"id": tenant.workspace_id, "name": "Workspace a"}


def test_password_change_signs_out_other_sessions(app, client, tenant):
    email = tenant.emails["analyst"]
    signed_in(client, email)
    laptop = new_client(app)
    signed_in(laptop, email)
    new_password = "a-much-better-passphrase"

    r = client.post("/api/v1/auth/password", json={"current_password": "wrong-password-1",
                                                   "new_password": new_password}, headers=csrf(client))
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.current_password"
    r = client.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "short"},
                    headers=csrf(client))
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.new_password"
    assert laptop.get("/api/v1/auth/me").status_code == 200  # failed attempts changed nothing

    r = client.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": new_password},
                    headers=csrf(client))
    assert r.status_code == 204
    assert laptop.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 200
    assert login(new_client(app), email, PASSWORD).status_code == 401
    assert login(new_client(app), email, new_password).status_code == 200
    assert "audit.password_changed" in [e["event"] for e in audit_events(client, tenant)]
