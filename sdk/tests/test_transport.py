"""Retries, backoff, Retry-After, Idempotency-Key reuse and request headers, over httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from s4e import AsyncS4EClient, S4EClient
from s4e.errors import APIConnectionError, APIError, ConfigurationError, NotFoundError, RateLimitError, ServerError

ASSET = {"id": "ast_01hv8x5m3t9q4zc2n7k1r6pbde", "name": "example.com", "type": "domain",
         "status": "pending_verification", "verified": False, "source": "manual", "criticality": "medium",
         "network_zone": "external", "scan_route": "platform", "created_at": "2026-04-28T12:00:00.000Z",
         "updated_at": "2026-04-28T12:00:00.000Z"}


class Server:
    """Answers requests from a script of responses (or exceptions) and records every request."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        return step

    def client(self, **kwargs) -> S4EClient:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return S4EClient(api_key="s4e_live_test", base_url="http://api.test/api/v1", http_client=http, **kwargs)

    def async_client(self, **kwargs) -> AsyncS4EClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self))
        return AsyncS4EClient(api_key="s4e_live_test", base_url="http://api.test/api/v1", http_client=http,
                              **kwargs)


def ok(data, status=200, headers=None):
    return httpx.Response(status, json={"data": data, "meta": {}}, headers=headers)


def err(status, code, message="nope", headers=None, details=None):
    return httpx.Response(status, headers=headers, json={"error": {"code": code, "message": message,
                                                                   "details": details, "request_id": "req_1"}})


def test_connect_error_is_retried_then_succeeds(sleeps):
    server = Server(httpx.ConnectError("refused"), httpx.ConnectError("refused"), ok(ASSET))
    asset = server.client().assets.get(ASSET["id"])
    assert asset.name == "example.com"
    assert len(server.requests) == 3
    assert len(sleeps) == 2 and 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0  # exponential, jittered


def test_connect_error_gives_up_after_retries(sleeps):
    server = Server(httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError) as info:
        server.client(retries=2).assets.get(ASSET["id"])
    assert len(server.requests) == 3 and len(sleeps) == 2
    assert info.value.code == "connection_error" and "refused" in info.value.message


def test_429_waits_for_retry_after(sleeps):
    server = Server(err(429, "rate_limited", headers={"Retry-After": "7"}), ok(ASSET))
    server.client().assets.get(ASSET["id"])
    assert len(server.requests) == 2
    assert 7 <= sleeps[0] <= 8


def test_429_with_long_retry_after_raises_at_once(sleeps):
    server = Server(err(429, "rate_limited", headers={"Retry-After": "3600"}, details={"retry_after": 3600}))
    with pytest.raises(RateLimitError) as info:
        server.client().assets.get(ASSET["id"])
    assert info.value.retry_after == 3600 and info.value.request_id == "req_1"
    assert len(server.requests) == 1 and sleeps == []


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried(sleeps, status):
    server = Server(err(status, "unavailable"), ok(ASSET))
    assert server.client().assets.get(ASSET["id"]).id == ASSET["id"]
    assert len(server.requests) == 2 and len(sleeps) == 1


def test_503_exhausting_retries_raises_server_error(sleeps):
    server = Server(err(503, "unavailable", "maintenance"))
    with pytest.raises(ServerError) as info:
        server.client(retries=3).assets.get(ASSET["id"])
    assert len(server.requests) == 4 and info.value.status_code == 503 and info.value.message == "maintenance"


@pytest.mark.parametrize("response", [err(500, "internal_error"), err(404, "not_found"), err(422, "validation_error")])
def test_other_errors_are_not_retried(sleeps, response):
    server = Server(response)
    with pytest.raises(APIError) as info:
        server.client().assets.get(ASSET["id"])
    assert info.value.status_code == response.status_code
    assert len(server.requests) == 1 and sleeps == []


def test_retried_post_reuses_its_idempotency_key(sleeps):
    server = Server(httpx.ConnectError("refused"), err(503, "unavailable"), ok(ASSET, 201))
    client = server.client()
    client.assets.create(name="example.com", type="domain")
    keys = [r.headers.get("idempotency-key") for r in server.requests]
    assert len(keys) == 3 and keys[0] and len(set(keys)) == 1
    assert all(json.loads(r.content) == {"name": "example.com", "type": "domain"} for r in server.requests)
    server.script = [ok(ASSET, 201)]
    client.assets.create(name="example.com", type="domain")
    assert server.requests[-1].headers["idempotency-key"] != keys[0]  # a new call is a new operation


def test_idempotency_in_progress_is_retried_with_the_same_key(sleeps):
    server = Server(err(409, "idempotency_in_progress"), ok(ASSET, 201))
    server.client().assets.create(name="example.com", type="domain", idempotency_key="import-2026-04-28")
    assert [r.headers["idempotency-key"] for r in server.requests] == ["import-2026-04-28"] * 2


def test_get_patch_delete_carry_no_idempotency_key(sleeps):
    server = Server(ok(ASSET))
    client = server.client()
    client.assets.get(ASSET["id"])
    client.assets.update(ASSET["id"], criticality="high")
    server.script = [httpx.Response(204)]
    client.assets.delete(ASSET["id"])
    assert [r.method for r in server.requests] == ["GET", "PATCH", "DELETE"]
    assert all("idempotency-key" not in r.headers for r in server.requests)


def test_headers_query_and_path_encoding():
    server = Server(httpx.Response(200, json={"data": [], "meta": {"total": 0, "page": 1, "per_page": 20,
                                                                   "total_pages": 0}}))
    client = server.client(workspace="wsp_01hv8x5m3t9q4zc2n7k1r6pbde")
    [*client.assets.list(type=["domain", "ip"], verified=False, from_="2026-01-01T00:00:00Z", tag="prod")]
    request = server.requests[0]
    assert request.headers["authorization"] == "Bearer s4e_live_test"
    assert request.headers["x-s4e-workspace"] == "wsp_01hv8x5m3t9q4zc2n7k1r6pbde"
    assert request.headers["user-agent"].startswith("s4e-sdk/")
    assert dict(request.url.params) == {"type": "domain,ip", "verified": "false", "from": "2026-01-01T00:00:00Z",
                                        "tag": "prod", "page": "1"}
    server.script = [err(404, "not_found")]
    with pytest.raises(NotFoundError):
        client.assets.get("../../users")
    assert server.requests[-1].url.raw_path == b"/api/v1/assets/..%2F..%2Fusers"
    with pytest.raises(NotFoundError):
        client.assets.get("..")
    assert server.requests[-1].url.raw_path == b"/api/v1/assets/%2E%2E"


def test_update_sends_only_given_fields_and_none_clears():
    server = Server(ok(ASSET))
    server.client().assets.update(ASSET["id"], owner_id=None, tags=["prod"])
    assert json.loads(server.requests[0].content) == {"owner_id": None, "tags": ["prod"]}
    with pytest.raises(ValueError):
        server.client().assets.update(ASSET["id"])


def test_async_client_retries_with_the_same_key(sleeps):
    server = Server(err(502, "upstream_error"), httpx.ConnectError("refused"), ok(ASSET, 201))

    async def main():
        async with server.async_client() as client:
            return await client.assets.create(name="example.com", type="domain")

    assert asyncio.run(main()).id == ASSET["id"]
    assert len({r.headers["idempotency-key"] for r in server.requests}) == 1 and len(server.requests) == 3
    assert len(sleeps) == 2


def test_settings_come_from_env_then_profile(monkeypatch):
    from s4e._config import ConfigFile

    config = ConfigFile.load()
    config.set("default", api_key="s4e_live_profile", base_url="http://profile.test/api/v1")
    config.set("prod", api_key="s4e_live_prod", base_url="https://prod.test/api/v1")
    config.save()
    assert S4EClient().base_url == "http://profile.test/api/v1"
    assert S4EClient()._transport.api_key == "s4e_live_profile"
    monkeypatch.setenv("S4E_PROFILE", "prod")
    assert S4EClient()._transport.api_key == "s4e_live_prod"
    monkeypatch.setenv("S4E_API_KEY", "s4e_live_env")
    client = S4EClient()
    assert client._transport.api_key == "s4e_live_env" and client.base_url == "https://prod.test/api/v1"
    assert S4EClient(api_key="s4e_live_arg")._transport.api_key == "s4e_live_arg"
    monkeypatch.setenv("S4E_PROFILE", "staging")
    with pytest.raises(ConfigurationError, match="No profile named 'staging'"):
        S4EClient()


def test_bad_base_url_is_a_configuration_error():
    with pytest.raises(ConfigurationError):
        S4EClient(api_key="k", base_url="ftp://example.com")
