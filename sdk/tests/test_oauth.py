"""Client-credentials plumbing over httpx.MockTransport: one token request for concurrent callers, retries of the
token request, RFC 6749 error bodies, and what a token request looks like on the wire (RFC 6749 2.3.1, 4.4)."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from urllib.parse import parse_qsl, unquote_plus

import httpx
import pytest

from s4e import AsyncS4EClient, S4EClient, errors

ME = {"user": {"id": "usr_01hv8x5m3t9q4zc2n7k1r6pbde", "email": "a@example.com", "name": "A",
               "created_at": "2026-04-28T12:00:00.000Z"}, "auth_method": "oauth_client",
      "client_id": "cli_01hv8x5m3t9q4zc2n7k1r6pbde", "scopes": ["read:assets"]}


class TokenServer:
    """A token endpoint that checks each request the way RFC 6749 describes it, plus `GET /auth/me`."""

    def __init__(self, client_id: str = "cli_1", secret: str = "s4e_oc_secret", delay: float = 0.0) -> None:
        self.client_id, self.secret, self.delay = client_id, secret, delay
        self.issued: list[str] = []
        self.api_calls: list[str] = []
        self.token_failures: list[httpx.Response] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token"):
            return self.token(request)
        self.api_calls.append(request.headers.get("authorization", ""))
        if request.headers.get("authorization") not in {f"Bearer {t}" for t in self.issued}:
            return httpx.Response(401, json={"error": {"code": "invalid_token", "message": "bad token"}})
        return httpx.Response(200, json={"data": ME, "meta": {}})

    def token(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        scheme, _, value = request.headers["authorization"].partition(" ")
        user, _, password = base64.b64decode(value).decode().partition(":")
        assert scheme == "Basic"
        form = dict(parse_qsl(request.content.decode()))
        assert form["grant_type"] == "client_credentials" and "client_secret" not in form
        if self.token_failures:
            return self.token_failures.pop(0)
        if (unquote_plus(user), unquote_plus(password)) != (self.client_id, self.secret):
            return httpx.Response(401, json={"error": "invalid_client", "error_description": "Unknown client"},
                                  headers={"WWW-Authenticate": "Basic"})
        time.sleep(self.delay)
        with self.lock:
            token = f"jwt.{len(self.issued) + 1}.sig"
            self.issued.append(token)
        return httpx.Response(200, json={"access_token": token, "token_type": "Bearer", "expires_in": 900,
                                         "scope": form.get("scope", "read:assets")})

    def client(self, **kwargs) -> S4EClient:
        return S4EClient(client_id=kwargs.pop("client_id", self.client_id),
                         client_secret=kwargs.pop("client_secret", self.secret), base_url="http://api.test/api/v1",
                         http_client=httpx.Client(transport=httpx.MockTransport(self)), **kwargs)


def test_concurrent_callers_share_one_token_request():
    server = TokenServer(delay=0.05)
    client = server.client()
    threads = [threading.Thread(target=client.auth.me) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert server.issued == ["jwt.1.sig"] and server.api_calls == ["Bearer jwt.1.sig"] * 8


def test_async_callers_share_one_token_request():
    server = TokenServer()

    async def scenario() -> list[str]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
            client = AsyncS4EClient(client_id="cli_1", client_secret="s4e_oc_secret",
                                    base_url="http://api.test/api/v1", http_client=http)
            results = await asyncio.gather(*(client.auth.me() for _ in range(5)))
            return [me.client_id for me in results]

    assert asyncio.run(scenario()) == ["cli_01hv8x5m3t9q4zc2n7k1r6pbde"] * 5
    assert server.issued == ["jwt.1.sig"]


def test_credentials_with_reserved_characters_are_form_encoded_in_basic():
    server = TokenServer(client_id="cli:odd", secret="s3cr:t/+ü")
    assert server.client(scope=["read:assets", "read:events"]).auth.me().auth_method == "oauth_client"
    assert server.issued == ["jwt.1.sig"]


def test_a_busy_token_endpoint_is_retried(sleeps):
    server = TokenServer()
    server.token_failures = [httpx.Response(503, json={"error": {"code": "unavailable", "message": "busy"}})]
    assert server.client().auth.me().client_id
    assert len(sleeps) == 1 and server.issued == ["jwt.1.sig"]


def test_rfc6749_errors_become_typed_errors():
    server = TokenServer()
    with pytest.raises(errors.AuthenticationError) as wrong:
        server.client(client_secret="s4e_oc_wrong").auth.me()
    assert wrong.value.code == "invalid_client" and wrong.value.message == "Unknown client"
    server.token_failures = [httpx.Response(400, json={"error": "invalid_scope",
                                                       "error_description": "Scope 'admin' is not granted"})]
    with pytest.raises(errors.BadRequestError) as scope:
        server.client(scope="admin").auth.me()
    assert scope.value.code == "invalid_scope"
    assert server.api_calls == []  # nothing was sent without a token


def test_a_token_that_is_not_rfc6749_is_an_api_response_error():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>login</html>")

    client = S4EClient(client_id="cli_1", client_secret="x", base_url="http://api.test/api/v1",
                       http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(errors.APIResponseError):
        client.auth.me()


def test_bad_client_credentials_are_configuration_errors():
    with pytest.raises(errors.ConfigurationError):
        S4EClient(client_id="cli_1", base_url="http://api.test/api/v1")  # no secret
    with pytest.raises(errors.ConfigurationError):
        S4EClient(api_key="s4e_live_x", client_id="cli_1", client_secret="y", base_url="http://api.test/api/v1")
