"""Members and invitations: add or invite, roles, the last admin, removal, accepting an invitation."""

from __future__ import annotations

from datetime import timedelta

from s4e_platform.auth import service as auth_service
from s4e_platform.auth.models import User
from s4e_platform.db.session import unit_of_work
from s4e_platform.kit.clock import utcnow
from s4e_platform.kit.crypto import sha256_hex
from s4e_platform.workspace.models import Invitation
from sqlalchemy import select, update

from tests.fixtures.workspace import console_headers, published

ACCEPT = "/api/v1/auth/invitations/accept"
NEW_PASSWORD = "a-long-enough-passphrase"


def _ws(tenant) -> str:
    return f"/api/v1/workspaces/{tenant.workspace_id}"


def _invite(client, tenant, email="new.person@example.com", role="analyst") -> dict:
    r = client.post(f"{_ws(tenant)}/members", json={"email": email, "role": role}, headers=tenant.headers())
    assert r.status_code == 201, r.text
    return r.json()["data"]


def test_members_list_shows_role_join_date_and_mfa(client, tenant, other_tenant):
    r = client.get(f"{_ws(tenant)}/members", params={"sort_by": "email", "sort_order": "asc"},
                   headers=tenant.headers("viewer"))
    assert r.status_code == 200 and r.json()["meta"]["total"] == 4
    rows = r.json()["data"]
    assert sorted(m["role"] for m in rows) == ["admin", "analyst", "developer", "viewer"]
    assert [m["email"] for m in rows] == sorted(tenant.emails.values())
    assert all(m["joined_at"].endswith("Z") and m["mfa_enabled"] is False for m in rows)
    assert client.get(f"{_ws(tenant)}/members", headers=other_tenant.headers()).status_code == 404


def test_adding_an_existing_user_makes_them_a_member_at_once(client, tenant, other_tenant):
    email = other_tenant.emails["viewer"]
    r = client.post(f"{_ws(tenant)}/members", json={"email": email.upper(), "role": "developer"},
                    headers=tenant.headers())
    assert r.status_code == 201
    member = r.json()["data"]
    assert member["user_id"] == other_tenant.users["viewer"] and member["role"] == "developer"
    assert "token" not in member
    assert r.headers["location"].endswith(f"/members/{member['user_id']}")
    r = client.post(f"{_ws(tenant)}/members", json={"email": email, "role": "viewer"}, headers=tenant.headers())
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_exists"
    added = published(client, tenant.headers(), "audit.member_added")
    assert [e["data"]["target"]["id"] for e in added] == [member["user_id"]]
    # Their own session can now open this workspace.
    assert client.get(_ws(tenant), headers=console_headers(member["user_id"])).status_code == 200


def test_member_changes_need_admin(client, tenant):
    h = tenant.headers("developer")
    target = f"{_ws(tenant)}/members/{tenant.users['viewer']}"
    assert client.post(f"{_ws(tenant)}/members", json={"email": "x@example.com", "role": "viewer"},
                       headers=h).status_code == 403
    assert client.patch(target, json={"role": "admin"}, headers=h).status_code == 403
    assert client.delete(target, headers=h).status_code == 403
    assert client.get(f"{_ws(tenant)}/invitations", headers=h).status_code == 403
    r = client.post(f"{_ws(tenant)}/members", json={"email": "not-an-email", "role": "viewer"},
                    headers=tenant.headers())
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.email"
    r = client.post(f"{_ws(tenant)}/members", json={"email": "nul\u0000@example.com", "role": "viewer"},
                    headers=tenant.headers())
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.email"
    r = client.post(f"{_ws(tenant)}/members", json={"email": "x@example.com", "role": "owner"},
                    headers=tenant.headers())
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.role"


def test_role_change_and_the_last_admin(client, tenant):
    admin_member = f"{_ws(tenant)}/members/{tenant.users['admin']}"
    r = client.patch(admin_member, json={"role": "viewer"}, headers=tenant.headers())
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    r = client.delete(admin_member, headers=tenant.headers())
    assert r.status_code == 409

    dev_member = f"{_ws(tenant)}/members/{tenant.users['developer']}"
    r = client.patch(dev_member, json={"role": "admin"}, headers=tenant.headers())
    assert r.status_code == 200 and r.json()["data"]["role"] == "admin"
    # Now there are two admins: the first may step down, and then the second is the last one.
    assert client.patch(admin_member, json={"role": "analyst"}, headers=tenant.headers()).status_code == 200
    r = client.patch(dev_member, json={"role": "viewer"}, headers=tenant.headers("developer"))
    assert r.status_code == 409
    assert client.patch(f"{_ws(tenant)}/members/usr_01hv8x5m3t9q4zc2n7k1r6pbde", json={"role": "viewer"},
                        headers=tenant.headers("developer")).status_code == 404
    changes = published(client, tenant.headers("developer"), "audit.role_changed")
    assert [(e["data"]["details"]["old_role"], e["data"]["details"]["new_role"]) for e in changes] == [
        ("developer", "admin"), ("admin", "analyst")]


def test_removing_a_member_revokes_their_credentials(client, tenant):
    analyst_key = {"X-API-Key": tenant.key(["read:assets"], role="analyst")}
    assert client.get("/api/v1/assets", headers=analyst_key).status_code == 200
    assert client.delete(f"{_ws(tenant)}/members/{tenant.users['analyst']}",
                         headers=tenant.headers()).status_code == 204
    assert client.get("/api/v1/assets", headers=analyst_key).status_code == 401
    # Re-adding the user does not bring the old keys back.
    with unit_of_work(readonly=True) as s:
        email = s.get(User, tenant.users["analyst"]).email
    assert client.post(f"{_ws(tenant)}/members", json={"email": email, "role": "analyst"},
                       headers=tenant.headers()).status_code == 201
    r = client.get("/api/v1/assets", headers=analyst_key)
    assert r.status_code == 401 and r.json()["error"]["code"] == "key_revoked"
    removed = published(client, tenant.headers(), "audit.member_removed")
    assert len(removed) == 1 and removed[0]["data"]["details"]["api_keys_revoked"] == 2


def test_removing_the_creator_of_an_oauth_client_revokes_it(client, tenant):
    dev_member = f"{_ws(tenant)}/members/{tenant.users['developer']}"
    client.patch(dev_member, json={"role": "admin"}, headers=tenant.headers())
    r = client.post("/api/v1/oauth/clients", json={"name": "c", "scopes": ["read:assets"]},
                    headers=tenant.headers("developer"))
    cli = r.json()["data"]
    form = {"grant_type": "client_credentials", "client_id": cli["id"], "client_secret": cli["client_secret"]}
    assert client.post("/api/v1/oauth/token", data=form).status_code == 200
    assert client.delete(dev_member, headers=tenant.headers()).status_code == 204
    r = client.post("/api/v1/oauth/token", data=form)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_invitation_flow(client, tenant):
    inv = _invite(client, tenant, email="New.Person@Example.com", role="developer")
    assert inv["id"].startswith("inv_") and inv["email"] == "new.person@example.com"
    assert inv["token"] and inv["invited_by"] == tenant.users["admin"]
    with unit_of_work(readonly=True) as s:
        row = s.get(Invitation, inv["id"])
        assert row.token_hash == sha256_hex(inv["token"])
        assert timedelta(days=6, hours=23) < row.expires_at - row.created_at <= timedelta(days=7)
    pending = client.get(f"{_ws(tenant)}/invitations", headers=tenant.headers()).json()
    assert [i["id"] for i in pending["data"]] == [inv["id"]] and "token" not in pending["data"][0]

    r = client.post(ACCEPT, json={"token": inv["token"], "name": "New Person", "password": "short"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.password"
    r = client.post(ACCEPT, json={"token": inv["token"], "name": "New Person", "password": NEW_PASSWORD})
    assert r.status_code == 201, r.text
    body = r.json()["data"]
    assert body["user"]["email"] == "new.person@example.com" and body["user"]["name"] == "New Person"
    assert body["workspace"] == {"id": tenant.workspace_id, "name": "Workspace a", "role": "developer"}
    with unit_of_work(readonly=True) as s:
        user = auth_service.user_by_email(s, "new.person@example.com")
        assert user is not None and user.password_hash and NEW_PASSWORD not in user.password_hash
    members = client.get(f"{_ws(tenant)}/members", headers=tenant.headers()).json()["data"]
    assert {"user_id": body["user"]["id"], "role": "developer"}.items() <= next(
        m for m in members if m["user_id"] == body["user"]["id"]).items()
    assert client.get(f"{_ws(tenant)}/invitations", headers=tenant.headers()).json()["meta"]["total"] == 0

    r = client.post(ACCEPT, json={"token": inv["token"], "name": "Again", "password": NEW_PASSWORD})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.token"
    added = published(client, tenant.headers(), "audit.member_added")
    assert added[-1]["actor"]["id"] == body["user"]["id"]


def test_invalid_expired_and_cancelled_invitations(client, tenant):
    r = client.post(ACCEPT, json={"token": "s4e_inv_nope", "name": "X", "password": NEW_PASSWORD})
    assert r.status_code == 422 and r.json()["error"]["details"][0] == {
        "path": "$.token", "message": "invitation invalid or expired", "code": "invalid_or_expired"}

    expired = _invite(client, tenant, email="late@example.com")
    with unit_of_work() as s:
        s.execute(update(Invitation).where(Invitation.id == expired["id"])
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    r = client.post(ACCEPT, json={"token": expired["token"], "name": "Late", "password": NEW_PASSWORD})
    assert r.status_code == 422
    assert client.get(f"{_ws(tenant)}/invitations", headers=tenant.headers()).json()["meta"]["total"] == 0

    cancelled = _invite(client, tenant, email="gone@example.com")
    url = f"{_ws(tenant)}/invitations/{cancelled['id']}"
    assert client.delete(url, headers=tenant.headers("developer")).status_code == 403
    assert client.delete(url, headers=tenant.headers()).status_code == 204
    assert client.delete(url, headers=tenant.headers()).status_code == 404
    r = client.post(ACCEPT, json={"token": cancelled["token"], "name": "Gone", "password": NEW_PASSWORD})
    assert r.status_code == 422
    with unit_of_work(readonly=True) as s:
        assert s.execute(select(User).where(User.email.in_(["late@example.com", "gone@example.com"]))).first() is None


def test_reinviting_replaces_the_pending_invitation(client, tenant, other_tenant):
    first = _invite(client, tenant, email="twice@example.com", role="viewer")
    second = _invite(client, tenant, email="twice@example.com", role="analyst")
    r = client.post(ACCEPT, json={"token": first["token"], "name": "T", "password": NEW_PASSWORD})
    assert r.status_code == 422
    pending = client.get(f"{_ws(tenant)}/invitations", headers=tenant.headers()).json()["data"]
    assert [(i["id"], i["role"]) for i in pending] == [(second["id"], "analyst")]
    assert client.delete(f"{_ws(tenant)}/invitations/{second['id']}",
                         headers=other_tenant.headers()).status_code == 404


def test_invitation_for_an_email_that_signed_up_meanwhile_is_409(client, tenant):
    inv = _invite(client, tenant, email="meanwhile@example.com")
    with unit_of_work() as s:
        auth_service.create_user(s, email="meanwhile@example.com", password=NEW_PASSWORD)
    r = client.post(ACCEPT, json={"token": inv["token"], "name": "M", "password": NEW_PASSWORD})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_exists"
    assert "log in" in r.json()["error"]["message"]
    # Nothing was consumed: an admin can still see it pending (and cancel it).
    assert client.get(f"{_ws(tenant)}/invitations", headers=tenant.headers()).json()["meta"]["total"] == 1
