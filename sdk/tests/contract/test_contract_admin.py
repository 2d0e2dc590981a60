"""The SDK's keys, workspaces, users and webhooks resources against the real platform app, in-process."""

from __future__ import annotations

import pytest

from s4e import S4EClient, errors
from s4e.models import Invitation, Member

BASE_URL = "http://testserver/api/v1"


def test_api_keys_lifecycle(platform):
    client = platform.client()
    created = client.keys.create(name="ci", scopes=["read:assets"], description="pipeline")
    assert created.key.startswith("s4e_live_") and created.scopes == ["read:assets"]
    scoped = S4EClient(api_key=created.key, base_url=BASE_URL, http_client=platform.http)
    assert scoped.auth.me().key_id == created.id
    with pytest.raises(errors.PermissionDeniedError):
        scoped.assets.create(name="x.example.com", type="domain")
    assert client.keys.update(created.id, name="ci-renamed").name == "ci-renamed"
    assert created.id in [k.id for k in client.keys.list()]
    client.keys.delete(created.id)
    with pytest.raises(errors.AuthenticationError) as info:
        scoped.auth.me()
    assert info.value.code == "key_revoked"


def test_workspaces_members_and_invitations(platform):
    client = platform.client()
    mine = [w for w in client.workspaces.list()]
    assert [w.id for w in mine] == [platform.tenant.workspace_id] and mine[0].role == "admin"
    ws = client.workspaces.get(platform.tenant.workspace_id)
    assert ws.settings is not None and ws.settings.event_retention_days == 90
    members = {m.role: m for m in client.workspaces.members.list(ws.id)}
    assert set(members) == {"admin", "developer", "analyst", "viewer"}
    promoted = client.workspaces.members.update(ws.id, members["viewer"].user_id, role="analyst")
    assert isinstance(promoted, Member) and promoted.role == "analyst"
    invited = client.workspaces.members.add(ws.id, email="newcomer@example.com", role="viewer")
    assert isinstance(invited, Invitation) and invited.token
    assert [i.email for i in client.workspaces.invitations.list(ws.id)] == ["newcomer@example.com"]
    client.workspaces.invitations.cancel(ws.id, invited.id)
    assert [*client.workspaces.invitations.list(ws.id)] == []
    added = client.workspaces.members.add(ws.id, email=platform.other.emails["admin"], role="viewer")
    assert isinstance(added, Member) and added.user_id == platform.other.users["admin"]
    client.workspaces.members.remove(ws.id, added.user_id)
    assert added.user_id not in [m.user_id for m in client.workspaces.members.list(ws.id)]


def test_users(platform):
    client = platform.client()
    me = client.users.me()
    assert me.id == platform.tenant.users["admin"] and me.is_superuser
    assert client.users.update_me(timezone="Europe/Istanbul").timezone == "Europe/Istanbul"
    user = client.users.create(email="Someone@Example.com", name="Some One")
    assert user.email == "someone@example.com" and user.has_password is False
    assert user.id in [u.id for u in client.users.list(search="someone")]
    client.users.deactivate(user.id)
    assert client.users.get(user.id).is_active is False
    with pytest.raises(errors.PermissionDeniedError):
        [*platform.client("viewer").users.list()]


def test_webhooks_crud_and_secret_rotation(platform):
    client = platform.client()
    hook = client.webhooks.create(name="siem", url="https://hooks.invalid/s4e", events=["finding.*"],
                                  headers={"X-Team": "blue"})
    assert hook.secret.startswith("whsec_") and hook.headers == {"X-Team": "********"}
    assert client.webhooks.get(hook.id).events == ["finding.*"]
    assert "secret" not in client.webhooks.get(hook.id).model_fields_set
    changed = client.webhooks.update(hook.id, active=False, events=["asset.created"])
    assert changed.active is False and changed.events == ["asset.created"]
    rotated = client.webhooks.rotate_secret(hook.id)
    assert rotated.secret != hook.secret and rotated.previous_secret_expires_at is not None
    assert [w.id for w in client.webhooks.list()] == [hook.id]
    assert [*client.webhooks.deliveries.list(hook.id)] == []
    with pytest.raises(errors.ValidationError) as info:
        client.webhooks.create(name="bad", url="https://127.0.0.1/hook", events=["finding.new"])
    assert info.value.errors[0].path == "$.url"
    client.webhooks.delete(hook.id)
    with pytest.raises(errors.NotFoundError):
        client.webhooks.get(hook.id)


def test_workspace_create_update_and_delete(platform):
    client = platform.client()  # a superuser's key: may create workspaces
    made = client.workspaces.create(name="Red team")
    assert made.id.startswith("wsp_") and made.role == "admin"
    with pytest.raises(errors.PermissionDeniedError):
        platform.client("developer").workspaces.create(name="Not allowed")
    ws_id = platform.tenant.workspace_id
    renamed = client.workspaces.update(ws_id, name="Blue team", settings={"sla_days": {"critical": 3}})
    assert renamed.name == "Blue team" and renamed.settings.sla_days["critical"] == 3
    assert client.workspaces.get(ws_id).settings.sla_days["high"] > 0  # settings merge key by key
    with pytest.raises(errors.ValidationError) as mismatch:
        client.workspaces.delete(ws_id, confirm="blue team")
    assert mismatch.value.errors[0].path == "query.confirm"
    client.workspaces.delete(ws_id, confirm="Blue team")
    with pytest.raises((errors.AuthenticationError, errors.NotFoundError)):
        client.workspaces.get(ws_id)


def test_accepting_an_invitation_creates_the_account(platform):
    admin = platform.client()
    ws = platform.tenant.workspace_id
    invitation = admin.workspaces.members.add(ws, email="joiner@example.com", role="analyst")
    anonymous = S4EClient(base_url=BASE_URL, http_client=platform.http)  # no credential needed
    accepted = anonymous.workspaces.invitations.accept(token=invitation.token, name="Joiner",
                                                       password="a-long-enough-password")
    assert accepted.user.email == "joiner@example.com" and accepted.workspace.id == ws
    assert accepted.workspace.role == "analyst"
    assert "joiner@example.com" in [m.email for m in admin.workspaces.members.list(ws)]
    with pytest.raises(errors.ValidationError) as used:
        anonymous.workspaces.invitations.accept(token=invitation.token, name="Again",
                                                password="a-long-enough-password")
    assert used.value.errors[0].path == "$.token"


def test_api_key_get_and_user_update(platform):
    client = platform.client()
    created = client.keys.create(name="reader", scopes=["read:assets"], tier="premium")
    shown = client.keys.get(created.id)
    assert shown.name == "reader" and shown.tier == "premium" and "key" not in shown.model_fields_set
    every = [*client.keys.list(all=True, sort_by="name", sort_order="asc")]
    assert created.id in [k.id for k in every] and [k.name for k in every] == sorted(k.name for k in every)
    assert len(every) > len([*client.keys.list()])  # all=True includes the other members' keys
    with pytest.raises(errors.NotFoundError):
        client.keys.get("key_01hv8x5m3t9q4zc2n7k1r6pbde")
    with pytest.raises(errors.PermissionDeniedError):
        platform.client("viewer").keys.get(created.id)  # managing keys by API key needs admin
    viewer_id = platform.tenant.users["viewer"]
    updated = client.users.update(viewer_id, name="Vera Viewer", is_active=True)
    assert updated.name == "Vera Viewer" and client.users.get(viewer_id).name == "Vera Viewer"
    with pytest.raises(errors.PermissionDeniedError):
        platform.client("viewer").users.update(viewer_id, is_superuser=True)
