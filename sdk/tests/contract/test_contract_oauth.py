"""OAuth clients and client-credentials tokens through the SDK against the real app: management, the token
exchange, and a client that fetches, reuses and renews its 900 s token by itself."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest

from s4e import AsyncS4EClient, S4EClient, _oauth, errors
from s4e.models import AccessToken, OAuthClient, OAuthClientWithSecret

BASE_URL = "http://testserver/api/v1"


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    """The SDK's token clock, moved by the test instead of waiting 15 minutes."""
    now = [1000.0]
    monkeypatch.setattr(_oauth, "_monotonic", lambda: now[0])
    return now


def test_oauth_client_management(platform):
    admin = platform.client()
    created = admin.oauth.clients.create(name="pipeline", scopes=["read:assets"], description="ci",
                                         asset_restriction={"tags": ["prod"]})
    assert isinstance(created, OAuthClientWithSecret) and created.id.startswith("cli_")
    assert created.client_secret.startswith("s4e_oc_") and created.asset_restriction.tags == ["prod"]
    shown = admin.oauth.clients.get(created.id)
    assert isinstance(shown, OAuthClient) and shown.name == "pipeline" and "client_secret" not in shown.model_fields_set
    assert shown.created_by == platform.tenant.users["admin"]
    assert [c.id for c in admin.oauth.clients.list(sort_by="name", sort_order="asc")] == [created.id]
    rotated = admin.oauth.clients.rotate_secret(created.id)
    assert rotated.client_secret != created.client_secret
    with pytest.raises(errors.AuthenticationError) as old:
        admin.oauth.token(client_id=created.id, client_secret=created.client_secret)
    assert old.value.code == "invalid_client" and old.value.status_code == 401
    assert admin.oauth.token(client_id=created.id, client_secret=rotated.client_secret).scopes == ["read:assets"]
    admin.oauth.clients.revoke(created.id)
    assert admin.oauth.clients.get(created.id).revoked_at is not None
    with pytest.raises(errors.AuthenticationError):
        admin.oauth.token(client_id=created.id, client_secret=rotated.client_secret)
    with pytest.raises(errors.PermissionDeniedError) as denied:
        [*platform.client("developer").oauth.clients.list()]
    assert denied.value.code == "insufficient_scope"
    with pytest.raises(errors.NotFoundError):
        admin.oauth.clients.get("cli_01hv8x5m3t9q4zc2n7k1r6pbde")
    with pytest.raises(errors.ValidationError) as invalid:
        admin.oauth.clients.create(name="bad", scopes=["read:everything"])
    assert invalid.value.errors[0].path == "$.scopes[0]"


def test_token_exchange_and_scope_narrowing(platform):
    admin = platform.client()
    created = admin.oauth.clients.create(name="siem", scopes=["read:assets", "read:events"])
    token = admin.oauth.token(client_id=created.id, client_secret=created.client_secret, scope=["read:events"])
    assert isinstance(token, AccessToken) and token.token_type == "Bearer" and token.expires_in == 900
    assert token.scopes == ["read:events"] and token.expires_at is not None
    bearer = S4EClient(api_key=token.access_token, base_url=BASE_URL, http_client=platform.http)
    assert bearer.auth.me().client_id == created.id
    with pytest.raises(errors.BadRequestError) as scope:
        admin.oauth.token(client_id=created.id, client_secret=created.client_secret, scope="admin")
    assert scope.value.code == "invalid_scope" and "admin" in scope.value.message
    narrowed = S4EClient(client_id=created.id, client_secret=created.client_secret, scope="read:assets",
                         base_url=BASE_URL, http_client=platform.http)
    assert narrowed.auth.me().scopes == ["read:assets"]
    with pytest.raises(errors.PermissionDeniedError):
        narrowed.events.list().first_page()
    with pytest.raises(errors.ConfigurationError):
        admin.oauth.token()  # an API-key client has no client credentials of its own


def test_client_fetches_reuses_and_renews_its_token(platform, recorder, clock):
    created = platform.client().oauth.clients.create(name="bot", scopes=["write:assets"])
    client = S4EClient(client_id=created.id, client_secret=created.client_secret, base_url=BASE_URL,
                       http_client=httpx.Client(transport=recorder))
    me = client.auth.me()
    assert me.auth_method == "oauth_client" and me.client_id == created.id and me.key_id is None
    client.assets.create(name="bot.example.com", type="domain")
    [exchange] = recorder.sent("/oauth/token")
    user, _, secret = base64.b64decode(exchange.headers["authorization"].split()[1]).decode().partition(":")
    assert (user, secret) == (created.id, created.client_secret)
    assert exchange.content == b"grant_type=client_credentials" and "idempotency-key" not in exchange.headers
    calls = [r for r in recorder.requests if r is not exchange]
    assert {r.headers["authorization"].count(".") for r in calls} == {2}  # every API call carried the JWT
    clock[0] += 800  # still more than a minute left: reused
    client.assets.list().first_page()
    assert len(recorder.sent("/oauth/token")) == 1
    clock[0] += 60  # inside the last minute: renewed before the request leaves
    assert [a.name for a in client.assets.list()] == ["bot.example.com"]
    assert len(recorder.sent("/oauth/token")) == 2


def test_a_rejected_token_is_replaced_once_then_the_error_surfaces(platform, recorder, clock):
    admin = platform.client()
    created = admin.oauth.clients.create(name="bot", scopes=["read:assets"])
    client = S4EClient(client_id=created.id, client_secret=created.client_secret, base_url=BASE_URL,
                       http_client=httpx.Client(transport=recorder))
    client.auth.me()
    # A token the server no longer accepts (say, it restarted with another secret): replaced transparently.
    client._transport.credentials.store(AccessToken(access_token="not.a.jwt", expires_in=900))
    assert client.auth.me().client_id == created.id
    assert len(recorder.sent("/oauth/token")) == 2
    admin.oauth.clients.revoke(created.id)
    with pytest.raises(errors.AuthenticationError) as revoked:
        client.auth.me()  # the held token is refused, and so is the client when asked for a new one
    assert revoked.value.code == "invalid_client"
    assert len(recorder.sent("/oauth/token")) == 3


def test_client_credentials_from_the_environment(platform, monkeypatch):
    created = platform.client().oauth.clients.create(name="env", scopes=["read:assets"])
    monkeypatch.setenv("S4E_CLIENT_ID", created.id)
    monkeypatch.setenv("S4E_CLIENT_SECRET", created.client_secret)
    client = S4EClient(base_url=BASE_URL, http_client=platform.http)
    assert client.auth.me().client_id == created.id
    assert client.oauth.token().scopes == ["read:assets"]  # its own credentials
    monkeypatch.setenv("S4E_API_KEY", platform.tenant.keys["admin"])
    with pytest.raises(errors.ConfigurationError):
        S4EClient(base_url=BASE_URL, http_client=platform.http)  # a key and client credentials: ambiguous
    monkeypatch.delenv("S4E_CLIENT_SECRET")
    monkeypatch.delenv("S4E_API_KEY")
    with pytest.raises(errors.ConfigurationError):
        S4EClient(base_url=BASE_URL, http_client=platform.http)


def test_async_client_with_client_credentials(platform, clock):
    created = platform.client().oauth.clients.create(name="async", scopes=["admin"])

    async def scenario() -> tuple[str, list[str], int]:
        transport = httpx.ASGITransport(app=platform.http.app)
        async with httpx.AsyncClient(transport=transport) as http:
            client = AsyncS4EClient(client_id=created.id, client_secret=created.client_secret,
                                    base_url=BASE_URL, http_client=http)
            me, clients = await asyncio.gather(client.auth.me(), client.oauth.clients.get(created.id))
            names = [c.name async for c in client.oauth.clients.list()]
            clock[0] += 900
            fresh = await client.oauth.token()
            return me.client_id, names, fresh.expires_in

    client_id, names, expires_in = asyncio.run(scenario())
    assert client_id == created.id and names == ["async"] and expires_in == 900
