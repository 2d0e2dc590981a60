"""OAuth 2.0 client credentials: client management, the RFC 6749 token endpoint, and JWT use."""

from __future__ import annotations

import base64
import time

import jwt
import pytest
from s4e_platform.auth.models import OAuthClient
from s4e_platform.db.session import unit_of_work
from s4e_platform.kit.crypto import sha256_hex

CLIENTS = "/api/v1/oauth/clients"
TOKEN = "/api/v1/oauth/token"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _new_client(client, tenant, scopes=("read:assets", "write:assets"), **fields) -> dict:
    r = client.post(CLIENTS, json={"name": "pipeline", "scopes": list(scopes), **fields}, headers=tenant.headers())
    assert r.status_code == 201, r.text
    return r.json()["data"]


def _token(client, cli: dict, **form) -> dict:
    r = client.post(TOKEN, data={"grant_type": "client_credentials", **form},
                    headers=_basic(cli["id"], cli["client_secret"]))
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def cli(client, tenant) -> dict:
    return _new_client(client, tenant)


def test_secret_shown_once_stored_hashed_and_basic_flow_works(client, tenant, cli):
    secret = cli["client_secret"]
    assert secret.startswith("s4e_oc_") and len(secret) == len("s4e_oc_") + 40
    assert cli["id"].startswith("cli_") and cli["created_by"] == tenant.users["admin"]
    with unit_of_work(readonly=True) as s:
        assert s.get(OAuthClient, cli["id"]).secret_hash == sha256_hex(secret)
    shown = client.get(f"{CLIENTS}/{cli['id']}", headers=tenant.headers()).json()["data"]
    assert "client_secret" not in shown
    listed = client.get(CLIENTS, headers=tenant.headers()).json()
    assert listed["meta"]["total"] == 1 and secret not in str(listed)

    r = client.post(TOKEN, data={"grant_type": "client_credentials"}, headers=_basic(cli["id"], secret))
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}  # RFC 6749 5.1, no envelope
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["scope"] == "read:assets write:assets"
    assert r.headers["cache-control"] == "no-store"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == cli["id"] and claims["wsp"] == tenant.workspace_id
    assert claims["exp"] - claims["iat"] == 900 and claims["jti"]

    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.post("/api/v1/assets", json={"name": "o.example.com", "type": "domain"},
                       headers=bearer).status_code == 201
    me = client.get(f"{CLIENTS}/{cli['id']}", headers=tenant.headers()).json()["data"]
    assert me["last_used_at"] is not None


def test_body_authentication_and_scope_subset(client, tenant, cli):
    r = client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": cli["id"].upper(),
                                 "client_secret": cli["client_secret"], "scope": "read:assets"})
    assert r.status_code == 200 and r.json()["scope"] == "read:assets"
    bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get("/api/v1/assets", headers=bearer).status_code == 200
    r = client.post("/api/v1/assets", json={"name": "x.example.com", "type": "domain"}, headers=bearer)
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_scope"


@pytest.mark.parametrize("scope", ["admin", "write:webhooks", "read:assets read:nothing", "read:events"])
def test_scope_outside_the_client_is_invalid_scope(client, cli, scope):
    r = client.post(TOKEN, data={"grant_type": "client_credentials", "scope": scope},
                    headers=_basic(cli["id"], cli["client_secret"]))
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope" and r.json()["error_description"]


def test_wrong_credentials_are_invalid_client(client, cli):
    r = client.post(TOKEN, data={"grant_type": "client_credentials"}, headers=_basic(cli["id"], "s4e_oc_wrong"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert r.headers["www-authenticate"].startswith("Basic")
    r = client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": cli["id"],
                                 "client_secret": cli["client_secret"] + "x"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client" and "www-authenticate" not in r.headers
    r = client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": "cli_01hv8x5m3t9q4zc2n7k1r6pbde",
                                 "client_secret": cli["client_secret"]})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = client.post(TOKEN, data={"grant_type": "client_credentials"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = client.post(TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic !!!"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_malformed_requests_follow_rfc_6749(client, cli):
    auth = _basic(cli["id"], cli["client_secret"])
    r = client.post(TOKEN, data={"grant_type": "password"}, headers=auth)
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = client.post(TOKEN, data={"scope": "read:assets"}, headers=auth)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = client.post(TOKEN, json={"grant_type": "client_credentials"}, headers=auth)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = client.post(TOKEN, content=b"grant_type=client_credentials&grant_type=client_credentials",
                    headers={**auth, **FORM})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": cli["id"],
                                 "client_secret": cli["client_secret"]}, headers=auth)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = client.post(TOKEN, content=b"grant_type=client_credentials&x=\xff", headers={**auth, **FORM})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    # Unrecognised parameters are ignored (RFC 6749 3.2).
    assert client.post(TOKEN, data={"grant_type": "client_credentials", "audience": "x"},
                       headers=auth).status_code == 200


def test_rotate_secret_invalidates_the_old_one_at_once(client, tenant, cli):
    r = client.post(f"{CLIENTS}/{cli['id']}/rotate-secret", headers=tenant.headers())
    assert r.status_code == 200
    new_secret = r.json()["data"]["client_secret"]
    assert new_secret != cli["client_secret"] and new_secret.startswith("s4e_oc_")
    old = client.post(TOKEN, data={"grant_type": "client_credentials"},
                      headers=_basic(cli["id"], cli["client_secret"]))
    assert old.status_code == 401 and old.json()["error"] == "invalid_client"
    assert client.post(TOKEN, data={"grant_type": "client_credentials"},
                       headers=_basic(cli["id"], new_secret)).status_code == 200


def test_revoke_stops_tokens_and_token_requests(client, tenant, cli):
    bearer = {"Authorization": f"Bearer {_token(client, cli)['access_token']}"}
    assert client.get("/api/v1/assets", headers=bearer).status_code == 200
    assert client.delete(f"{CLIENTS}/{cli['id']}", headers=tenant.headers()).status_code == 204
    r = client.get("/api/v1/assets", headers=bearer)
    assert r.status_code == 401 and r.json()["error"]["code"] == "key_revoked"
    r = client.post(TOKEN, data={"grant_type": "client_credentials"},
                    headers=_basic(cli["id"], cli["client_secret"]))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert client.get(f"{CLIENTS}/{cli['id']}", headers=tenant.headers()).json()["data"]["revoked_at"]
    r = client.post(f"{CLIENTS}/{cli['id']}/rotate-secret", headers=tenant.headers())
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_state"

    from s4e_platform.event import publisher

    publisher.drain()
    events = client.get("/api/v1/events", params={"event": "audit.oauth_client_created,audit.oauth_client_revoked"},
                        headers=tenant.headers()).json()["data"]
    assert [e["event"] for e in events] == ["audit.oauth_client_created", "audit.oauth_client_revoked"]
    assert all(e["data"]["target"] == {"type": "oauth_client", "id": cli["id"]} for e in events)


def test_expired_jwt_is_401_token_expired(client, cli, monkeypatch):
    from s4e_platform.auth import tokens

    class Earlier:
        """The token endpoint's clock, 901 s behind: its JWT is already past its 900 s lifetime."""

        @staticmethod
        def time() -> float:
            return time.time() - 901

    monkeypatch.setattr(tokens, "time", Earlier)
    stale = _token(client, cli)["access_token"]
    monkeypatch.undo()
    r = client.get("/api/v1/assets", headers={"Authorization": f"Bearer {stale}"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"
    forged = jwt.encode({**jwt.decode(stale, options={"verify_signature": False}), "exp": int(time.time()) + 600},
                        "an-attacker-chosen-key-of-forty-characters", algorithm="HS256")
    r = client.get("/api/v1/assets", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"


def test_jwt_is_bound_to_its_workspace(client, tenant, other_tenant, cli):
    bearer = {"Authorization": f"Bearer {_token(client, cli)['access_token']}"}
    r = client.get("/api/v1/assets", headers={**bearer, "X-S4E-Workspace": other_tenant.workspace_id})
    assert r.status_code == 400 and r.json()["error"]["code"] == "workspace_mismatch"
    assert client.get(f"/api/v1/workspaces/{other_tenant.workspace_id}", headers=bearer).status_code == 404


def test_client_management_needs_admin_and_hides_other_workspaces(client, tenant, other_tenant, cli):
    # The developer's key carries scope admin, but the developer role caps it.
    r = client.get(CLIENTS, headers=tenant.headers("developer"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_scope"
    r = client.post(CLIENTS, json={"name": "x", "scopes": ["read:assets"]}, headers=tenant.headers("analyst"))
    assert r.status_code == 403
    for method, path in (("GET", ""), ("DELETE", ""), ("POST", "/rotate-secret")):
        r = client.request(method, f"{CLIENTS}/{cli['id']}{path}", headers=other_tenant.headers())
        assert r.status_code == 404, (method, path)
    assert client.get(CLIENTS, headers=other_tenant.headers()).json()["meta"]["total"] == 0
    r = client.post(CLIENTS, json={"name": "x", "scopes": ["read:assets", "bogus"]}, headers=tenant.headers())
    assert r.status_code == 422 and r.json()["error"]["details"][0]["path"] == "$.scopes[1]"


def test_token_endpoint_rate_limits_per_ip(client, cli, settings):
    settings.rate_limit_enabled = True
    auth = _basic(cli["id"], "s4e_oc_wrong")
    codes = [client.post(TOKEN, data={"grant_type": "client_credentials"}, headers=auth).status_code
             for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    assert client.post(TOKEN, data={"grant_type": "client_credentials"},
                       headers=_basic(cli["id"], cli["client_secret"])).status_code == 429


def test_token_endpoint_is_documented_with_form_body_and_rfc_shapes(client):
    op = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/oauth/token"]["post"]
    form = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["grant_type"] and set(form["properties"]) >= {"grant_type", "scope"}
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/TokenResponse")
    for status in ("400", "401"):
        ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/OAuthErrorResponse")
    assert op["x-s4e-auth"] == "public"


def test_token_endpoint_rate_limits_per_client_across_addresses(app, cli, settings):
    from fastapi.testclient import TestClient

    settings.rate_limit_enabled = True
    auth = _basic(cli["id"], "s4e_oc_wrong")
    codes = []
    for n in range(4):  # 8 attempts from each of 4 addresses: under the per-IP limit, over the per-client one
        with TestClient(app, client=(f"127.0.0.{n + 2}", 50000)) as c:
            codes += [c.post(TOKEN, data={"grant_type": "client_credentials"}, headers=auth).status_code
                      for _ in range(8)]
    assert codes[:30] == [401] * 30 and codes[30:] == [429, 429]
