"""`s4e keys`, `s4e oauth`, `s4e users`, `s4e workspaces`, `s4e whoami` and `s4e meta` against the real app
in-process: tables, --json, --quiet, prompts and exit codes."""

from __future__ import annotations

import json


def test_keys(s4e, s4e_json):
    created = s4e("keys", "create", "ci", "--scope", "read:assets", "--tag", "prod")
    assert created.exit_code == 0, created.output
    assert "s4e_live_" in created.stdout and "prod" in created.stdout and "not shown again" in created.stderr
    secret = s4e("keys", "create", "other", "-s", "read:events", "-q").stdout.strip()
    assert secret.startswith("s4e_live_") and len(secret.split()) == 1
    table = s4e("keys", "list", "--sort-by", "name", "--sort-order", "asc")
    assert table.exit_code == 0 and table.stdout.index("ci") < table.stdout.index("other")
    mine = s4e_json("keys", "list", "--per-page", "1", "--all")
    workspace = s4e_json("keys", "list", "--all-users", "--all")
    assert {"ci", "other"} <= {k["name"] for k in mine} and len(workspace) > len(mine)
    key_id = next(k["id"] for k in mine if k["name"] == "ci")
    assert "read:assets" in s4e("keys", "get", key_id).stdout
    assert s4e_json("keys", "update", key_id, "--description", "pipeline")["description"] == "pipeline"
    assert s4e("keys", "delete", key_id, "--yes", "-q").exit_code == 0
    assert s4e_json("keys", "get", key_id)["revoked_at"] is not None
    denied = s4e("keys", "create", "wide", "-s", "admin", key="viewer")
    assert denied.exit_code == 1 and "insufficient_scope" in denied.stderr


def test_oauth_clients_and_tokens(s4e, s4e_json):
    created = s4e("oauth", "clients", "create", "pipeline", "-s", "read:assets", "-s", "read:events")
    assert created.exit_code == 0, created.output
    assert "s4e_oc_" in created.stdout and "not shown again" in created.stderr
    client_id = next(w for w in created.stdout.split() if w.startswith("cli_"))
    listed = s4e("oauth", "clients", "list")
    assert listed.exit_code == 0 and "pipeline" in listed.stdout and "1 total" in listed.stdout
    assert s4e_json("oauth", "clients", "get", client_id)["scopes"] == ["read:assets", "read:events"]
    secret = s4e("oauth", "clients", "rotate-secret", client_id, "--yes", "-q").stdout.strip()
    assert secret.startswith("s4e_oc_")
    token = s4e("oauth", "token", "--client-id", client_id, "-s", "read:assets", "-q", key=None,
                S4E_CLIENT_SECRET=secret)
    assert token.exit_code == 0, token.output
    assert token.stdout.count(".") == 2  # a JWT
    prompted = s4e("oauth", "token", "--client-id", client_id, "--json", key=None, input=secret + "\n")
    assert prompted.exit_code == 0 and json.loads(prompted.stdout)["expires_in"] == 900
    who = s4e_json("whoami", key=None, S4E_CLIENT_ID=client_id, S4E_CLIENT_SECRET=secret)
    assert who["auth_method"] == "oauth_client" and who["client_id"] == client_id
    assert s4e("oauth", "clients", "revoke", client_id, "--yes").exit_code == 0
    refused = s4e("oauth", "token", "--client-id", client_id, key=None, S4E_CLIENT_SECRET=secret)
    assert refused.exit_code == 1 and "invalid_client" in refused.stderr
    assert s4e("oauth", "token", key=None).exit_code == 2  # no client id anywhere
    assert s4e("oauth", "clients", "get", "cli_01hv8x5m3t9q4zc2n7k1r6pbde").exit_code == 3


def test_users(s4e, s4e_json, platform):
    me = s4e("users", "me")
    assert me.exit_code == 0 and platform.tenant.emails["admin"] in me.stdout
    assert s4e_json("users", "update-me", "--timezone", "Europe/Istanbul")["timezone"] == "Europe/Istanbul"
    created = s4e_json("users", "create", "New.Person@Example.com", "--name", "New Person", "--password",
                       input="a-long-enough-password\na-long-enough-password\n")
    assert created["email"] == "new.person@example.com" and created["has_password"] is True
    listed = s4e("users", "list", "--search", "new.person")
    assert listed.exit_code == 0 and "New Person" in listed.stdout and "1 total" in listed.stdout
    assert s4e("users", "list", "--superuser", "-q").stdout.split() == [platform.tenant.users["admin"]]
    assert s4e_json("users", "update", created["id"], "--name", "Renamed")["name"] == "Renamed"
    assert "Renamed" in s4e("users", "get", created["id"]).stdout
    assert s4e("users", "deactivate", created["id"], "--yes").exit_code == 0
    assert s4e_json("users", "get", created["id"])["is_active"] is False
    assert s4e("users", "list", key="viewer").exit_code == 1


def test_workspaces_members_and_invitations(s4e, s4e_json, platform):
    ws = platform.tenant.workspace_id
    table = s4e("workspaces", "list")
    assert table.exit_code == 0 and "Workspace sdk" in table.stdout and "admin" in table.stdout
    made = s4e_json("workspaces", "create", "Purple")
    assert made["role"] == "admin" and made["id"].startswith("wsp_")
    assert s4e_json("workspaces", "get", ws)["settings"]["event_retention_days"] == 90
    changed = s4e_json("workspaces", "update", ws, "--settings", '{"sla_days": {"critical": 2}}')
    assert changed["settings"]["sla_days"]["critical"] == 2
    assert s4e("workspaces", "update", ws, "--settings", "{oops").exit_code == 2
    members = s4e("workspaces", "members", ws, "--sort-by", "role", "--sort-order", "asc")
    assert members.exit_code == 0 and members.stdout.count("@example.com") == 4
    viewer = platform.tenant.users["viewer"]
    assert s4e_json("workspaces", "set-role", ws, viewer, "--role", "analyst")["role"] == "analyst"
    token = s4e("workspaces", "add-member", ws, "invitee@example.com", "--role", "viewer", "-q").stdout.strip()
    assert token.startswith("s4e_inv_")
    pending = s4e_json("workspaces", "invitations", ws)
    assert [i["email"] for i in pending] == ["invitee@example.com"]
    accepted = s4e("workspaces", "accept-invitation", token, "--name", "Invitee", key=None,
                   input="a-long-enough-password\na-long-enough-password\n")
    assert accepted.exit_code == 0, accepted.output
    assert "invitee@example.com" in accepted.stdout and ws in accepted.stdout
    assert s4e_json("workspaces", "invitations", ws) == []
    second = s4e("workspaces", "add-member", ws, "late@example.com", "--role", "viewer", "--json")
    invitation_id = json.loads(second.stdout)["id"]
    assert s4e("workspaces", "cancel-invitation", ws, invitation_id).exit_code == 0
    assert s4e("workspaces", "remove-member", ws, viewer, "--yes").exit_code == 0
    assert viewer not in s4e("workspaces", "members", ws, "-q").stdout
    wrong = s4e("workspaces", "delete", ws, "--confirm", "nope", "--yes")
    assert wrong.exit_code == 1 and "query.confirm" in wrong.stderr
    assert s4e("workspaces", "delete", ws, "--confirm", "Workspace sdk", "--yes").exit_code == 0


def test_whoami_and_meta(s4e, s4e_json, platform):
    who = s4e("whoami")
    assert who.exit_code == 0 and platform.tenant.emails["admin"] in who.stdout and "api_key" in who.stdout
    meta = s4e("meta")
    assert meta.exit_code == 0 and "version" in meta.stdout and "mode" in meta.stdout
    data = s4e_json("meta")
    assert data["mode"] in ("embedded", "scale_out") and s4e("meta", "-q").stdout.strip() == data["version"]
