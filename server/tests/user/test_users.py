"""/users: own profile, superuser administration, authorization, deactivation."""

from __future__ import annotations

from s4e_platform.auth.models import OAuthClient
from s4e_platform.db.session import unit_of_work
from s4e_platform.kit.crypto import sha256_hex
from s4e_platform.kit.ids import new_id

from tests.auth.console import csrf, login, new_client, signed_in
from tests.fixtures.auth import PASSWORD

READ_FIELDS = {"id", "email", "name", "timezone", "is_active", "is_superuser", "mfa_enabled", "has_password",
               "created_at", "last_login_at"}


def test_own_profile_read_and_update(client, tenant):
    h = tenant.headers("viewer")
    r = client.get("/api/v1/users/me", headers=h)
    assert r.status_code == 200
    me = r.json()["data"]
    assert set(me) == READ_FIELDS and me["id"] == tenant.users["viewer"] and me["timezone"] == "UTC"

    r = client.patch("/api/v1/users/me", json={"name": "Ayşe Yılmaz", "timezone": "Europe/Istanbul"}, headers=h)
    assert r.status_code == 200
    assert r.json()["data"]["name"] == "Ayşe Yılmaz" and r.json()["data"]["timezone"] == "Europe/Istanbul"

    for body, path in (({"timezone": "Mars/Olympus"}, "$.timezone"), ({"timezone": "../../etc/passwd"}, "$.timezone"),
                       ({"name": "x" * 201}, "$.name"), ({"name": None}, "$.name"),
                       ({"is_superuser": True}, "$.is_superuser")):
        r = client.patch("/api/v1/users/me", json=body, headers=h)
        assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == path, body
    assert client.get("/api/v1/users/me", headers=h).json()["data"]["timezone"] == "Europe/Istanbul"
    r = client.patch("/api/v1/users/me", json={"name": ""}, headers=h)
    assert r.status_code == 200 and r.json()["data"]["name"] == ""


def test_non_superusers_manage_only_themselves(client, tenant):
    h = tenant.headers("developer")
    me, other = tenant.users["developer"], tenant.users["viewer"]
    assert client.get("/api/v1/users", headers=h).status_code == 403
    r = client.post("/api/v1/users", json={"email": "new@example.com"}, headers=h)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert client.get(f"/api/v1/users/{other}", headers=h).status_code == 403
    assert client.patch(f"/api/v1/users/{other}", json={"name": "x"}, headers=h).status_code == 403
    assert client.delete(f"/api/v1/users/{other}", headers=h).status_code == 403
    assert client.get(f"/api/v1/users/{new_id('usr')}", headers=h).status_code == 403  # existence not revealed

    assert client.get(f"/api/v1/users/{me.upper()}", headers=h).json()["data"]["id"] == me
    r = client.patch(f"/api/v1/users/{me}", json={"name": "Dev"}, headers=h)
    assert r.status_code == 200 and r.json()["data"]["name"] == "Dev"
    r = client.patch(f"/api/v1/users/{me}", json={"is_superuser": True}, headers=h)
    assert r.status_code == 403
    r = client.patch(f"/api/v1/users/{me}", json={"is_active": False}, headers=h)
    assert r.status_code == 403
    assert client.get("/api/v1/users/me", headers=h).json()["data"]["is_superuser"] is False


def test_superuser_creates_and_lists_users(client, tenant):
    h = tenant.headers()  # the `tenant` admin is an instance superuser
    r = client.post("/api/v1/users", json={"email": " Carol@Example.COM ", "name": "Carol"}, headers=h)
    assert r.status_code == 201, r.text
    carol = r.json()["data"]
    assert carol["email"] == "carol@example.com" and carol["has_password"] is False
    assert r.headers["Location"] == f"/api/v1/users/{carol['id']}"
    assert login(client, "carol@example.com", PASSWORD).status_code == 401  # no password: cannot sign in

    r = client.post("/api/v1/users", json={"email": "CAROL@example.com"}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_exists"
    r = client.post("/api/v1/users", json={"email": "not-an-email"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.email"
    r = client.post("/api/v1/users", json={"email": "dan\u0000@example.com"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.email"
    r = client.post("/api/v1/users", json={"email": "dan@example.com", "password": "short"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.password"
    r = client.post("/api/v1/users", json={"email": "dan@example.com", "password": PASSWORD, "role": "x"},
                    headers=h)
    assert r.status_code == 422

    r = client.post("/api/v1/users", json={"email": "dan@example.com", "password": PASSWORD}, headers=h)
    assert r.status_code == 201 and r.json()["data"]["has_password"] is True
    assert login(client, "dan@example.com").status_code == 200

    r = client.get("/api/v1/users?search=CAROL", headers=h).json()
    assert [u["email"] for u in r["data"]] == ["carol@example.com"]
    r = client.get("/api/v1/users?per_page=2&sort_by=email&sort_order=asc", headers=h).json()
    assert r["meta"]["total"] == 6 and [u["email"] for u in r["data"]][0].startswith("admin-")
    assert client.get("/api/v1/users?is_superuser=true", headers=h).json()["meta"]["total"] == 1
    assert client.get("/api/v1/users?is_active=maybe", headers=h).status_code == 400
    assert client.get("/api/v1/users?search=a%00b", headers=h).status_code == 400
    assert client.get("/api/v1/users?sort_by=password_hash", headers=h).status_code == 400
    for u in client.get("/api/v1/users", headers=h).json()["data"]:
        assert set(u) == READ_FIELDS
    assert client.get(f"/api/v1/users/{new_id('usr')}", headers=h).status_code == 404
    assert client.get("/api/v1/users/usr_nonsense", headers=h).status_code == 404


def test_the_last_superuser_cannot_step_down(client, tenant):
    h, me = tenant.headers(), tenant.users["admin"]
    r = client.patch(f"/api/v1/users/{me}", json={"is_superuser": False}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_state"
    assert client.delete(f"/api/v1/users/{me}", headers=h).status_code == 409
    other = tenant.users["analyst"]
    r = client.patch(f"/api/v1/users/{other}", json={"is_superuser": True}, headers=h)
    assert r.status_code == 200 and r.json()["data"]["is_superuser"] is True
    r = client.patch(f"/api/v1/users/{me}", json={"is_superuser": False}, headers=h)
    assert r.status_code == 200 and r.json()["data"]["is_superuser"] is False
    assert client.get("/api/v1/users", headers=h).status_code == 403  # the flag is gone at once


def test_deactivation_ends_sessions_and_revokes_credentials(app, client, tenant):
    victim = tenant.users["developer"]
    browser = new_client(app)
    signed_in(browser, tenant.emails["developer"])
    client_id = new_id("cli")
    with unit_of_work() as s:
        s.add(OAuthClient(id=client_id, workspace_id=tenant.workspace_id, created_by=victim, name="ci",
                          secret_hash=sha256_hex("s4e_oc_x"), scopes=["read:assets"]))
    assert client.get("/api/v1/assets", headers=tenant.headers("developer")).status_code == 200

    assert client.delete(f"/api/v1/users/{victim}", headers=tenant.headers()).status_code == 204
    r = client.get("/api/v1/assets", headers=tenant.headers("developer"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "key_revoked"
    assert browser.get("/api/v1/auth/me").status_code == 401
    assert login(client, tenant.emails["developer"]).status_code == 401
    with unit_of_work(readonly=True) as s:
        assert s.get(OAuthClient, client_id).revoked_at is not None
    user = client.get(f"/api/v1/users/{victim}", headers=tenant.headers()).json()["data"]
    assert user["is_active"] is False and user["email"] == tenant.emails["developer"]  # history kept

    # Reactivation lets the user sign in again; revoked keys stay revoked.
    r = client.patch(f"/api/v1/users/{victim}", json={"is_active": True}, headers=tenant.headers())
    assert r.status_code == 200 and r.json()["data"]["is_active"] is True
    assert login(client, tenant.emails["developer"]).status_code == 200
    assert client.get("/api/v1/assets", headers=tenant.headers("developer")).status_code == 401


def test_superuser_session_can_administer_users(client, tenant):
    signed_in(client, tenant.emails["admin"])
    r = client.post("/api/v1/users", json={"email": "erin@example.com"}, headers=csrf(client))
    assert r.status_code == 201
    r = client.patch(f"/api/v1/users/{r.json()['data']['id']}", json={"is_active": False}, headers=csrf(client))
    assert r.status_code == 200 and r.json()["data"]["is_active"] is False
