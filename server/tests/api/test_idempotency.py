"""Idempotency-Key on POST (api.md 1.10; decisions.md "Idempotency records are encrypted")."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from s4e_platform.auth.dependencies import AnyPrincipal
from s4e_platform.db.session import unit_of_work
from s4e_platform.idempotency.models import IdempotencyRecord
from sqlalchemy import select

ASSETS = "/api/v1/assets"


def post_asset(client, headers: dict, key: str, name: str = "idem.example.com"):
    return client.post(ASSETS, json={"name": name, "type": "domain"}, headers={**headers, "Idempotency-Key": key})


def asset_count(client, tenant) -> int:
    return client.get(ASSETS, headers=tenant.headers()).json()["meta"]["total"]


def test_same_key_same_body_replays_without_a_second_object(client, tenant):
    first = post_asset(client, tenant.headers(), "create-1")
    assert first.status_code == 201 and "idempotency-replayed" not in first.headers
    again = post_asset(client, tenant.headers(), "create-1")
    assert again.status_code == 201
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert asset_count(client, tenant) == 1


def test_same_key_other_body_is_422(client, tenant):
    assert post_asset(client, tenant.headers(), "k-2").status_code == 201
    r = post_asset(client, tenant.headers(), "k-2", name="other.example.com")
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency_key_mismatch"
    assert r.json()["error"]["request_id"] == r.headers["x-request-id"]
    assert asset_count(client, tenant) == 1


def test_keys_are_per_credential(client, tenant, other_tenant):
    assert post_asset(client, tenant.headers(), "shared").status_code == 201
    # Another key of the same user is another credential: its request runs (here: a real duplicate).
    sibling = {"Authorization": f"Bearer {tenant.key(['write:assets'])}"}
    r = post_asset(client, sibling, "shared")
    assert r.status_code == 409 and "idempotency-replayed" not in r.headers
    r = post_asset(client, other_tenant.headers(), "shared")
    assert r.status_code == 201 and "idempotency-replayed" not in r.headers


def test_stored_error_replays_with_the_new_request_id(client, tenant):
    post_asset(client, tenant.headers(), "a")
    first = post_asset(client, tenant.headers(), "dup")
    assert first.status_code == 409
    again = post_asset(client, tenant.headers(), "dup")
    assert again.status_code == 409 and again.headers["idempotency-replayed"] == "true"
    assert again.json()["error"]["request_id"] == again.headers["x-request-id"] != first.headers["x-request-id"]


def test_replay_needs_a_credential_that_still_works(client, tenant, settings):
    from s4e_platform.auth.models import ApiKey
    from s4e_platform.kit.clock import utcnow
    from s4e_platform.kit.crypto import sha256_hex

    key = tenant.key(["write:assets"])
    headers = {"Authorization": f"Bearer {key}"}
    assert post_asset(client, headers, "revoked-later").status_code == 201
    settings.rate_limit_enabled = True
    replay = post_asset(client, headers, "revoked-later")
    assert replay.headers["idempotency-replayed"] == "true"
    assert int(replay.headers["x-ratelimit-remaining"]) < 120  # a replay spends a token like any request
    with unit_of_work() as s:
        s.execute(ApiKey.__table__.update().where(ApiKey.key_hash == sha256_hex(key)).values(revoked_at=utcnow()))
    r = post_asset(client, headers, "revoked-later")
    assert r.status_code == 401 and r.json()["error"]["code"] == "key_revoked"
    assert "idempotency-replayed" not in r.headers


@pytest.mark.parametrize("key", ["", " leading-space", "x" * 256, "tab\there", "caf\u00e9"])
def test_invalid_key_is_400(client, tenant, key):
    r = client.post(ASSETS, json={"name": "a.com", "type": "domain"},
                    headers={**tenant.headers(), "Idempotency-Key": key.encode()})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_parameter"
    assert asset_count(client, tenant) == 0


def test_stored_body_is_encrypted_at_rest(client, tenant):
    from s4e_platform.kit.crypto import cipher

    r = post_asset(client, tenant.headers(), "enc", name="secret-name.example.com")
    with unit_of_work(readonly=True) as s:
        row = s.execute(select(IdempotencyRecord).where(IdempotencyRecord.key == "enc")).scalar_one()
    assert row.status == "completed" and row.response_status == 201
    assert b"secret-name" not in row.response_body and b"data" not in row.response_body
    assert cipher().decrypt(row.response_body.decode()).encode("latin-1") == r.content
    assert tenant.keys["admin"] not in row.principal_key  # only a hash of the credential


@pytest.fixture
def probe_app(database_url):
    """The real app plus two POST routes whose timing and failures the test controls."""
    from s4e_platform.kit.router import api_router
    from s4e_platform.kit.schemas import Envelope
    from s4e_platform.main import create_app

    state = {"entered": threading.Event(), "release": threading.Event(), "calls": 0}
    router = api_router()

    @router.post("/probe/slow", response_model=Envelope[dict], status_code=201, operation_id="probe_slow")
    def probe_slow(principal: AnyPrincipal):
        """Holds the request open until the test releases it."""
        state["entered"].set()
        assert state["release"].wait(10)
        return {"data": {"calls": 1}, "meta": {}}

    @router.post("/probe/flaky", response_model=Envelope[dict], status_code=201, operation_id="probe_flaky")
    def probe_flaky(principal: AnyPrincipal):
        """Fails with a server error the first time."""
        state["calls"] += 1
        if state["calls"] == 1:
            raise RuntimeError("transient")
        return {"data": {"calls": state["calls"]}, "meta": {}}

    app = create_app()
    app.include_router(router, prefix="/api/v1")
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, state


def test_concurrent_request_with_the_same_key_is_409(probe_app, tenant):
    client, state = probe_app
    headers = {**tenant.headers(), "Idempotency-Key": "slow-1"}
    results = {}
    first = threading.Thread(target=lambda: results.update(first=client.post("/api/v1/probe/slow", json={},
                                                                              headers=headers)))
    first.start()
    try:
        assert state["entered"].wait(10)
        r = client.post("/api/v1/probe/slow", json={}, headers=headers)
        assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_in_progress"
    finally:
        state["release"].set()
        first.join(10)
    assert results["first"].status_code == 201
    replay = client.post("/api/v1/probe/slow", json={}, headers=headers)
    assert replay.status_code == 201 and replay.headers["idempotency-replayed"] == "true"


def test_server_errors_are_not_stored(probe_app, tenant):
    client, state = probe_app
    headers = {**tenant.headers(), "Idempotency-Key": "flaky-1"}
    failed = client.post("/api/v1/probe/flaky", json={}, headers=headers)
    assert failed.status_code == 500, failed.text
    retried = client.post("/api/v1/probe/flaky", json={}, headers=headers)
    assert retried.status_code == 201 and "idempotency-replayed" not in retried.headers
    assert retried.json()["data"] == {"calls": 2}
    replayed = client.post("/api/v1/probe/flaky", json={}, headers=headers)
    assert replayed.headers["idempotency-replayed"] == "true" and state["calls"] == 2


def test_without_a_key_every_post_runs(client, tenant):
    assert client.post(ASSETS, json={"name": "a.com", "type": "domain"}, headers=tenant.headers()).status_code == 201
    assert client.post(ASSETS, json={"name": "a.com", "type": "domain"}, headers=tenant.headers()).status_code == 409
