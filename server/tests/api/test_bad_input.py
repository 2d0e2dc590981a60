"""Hostile and malformed requests get a precise 4xx envelope and change nothing (api.md 1.1, 1.2, 1.7)."""

from __future__ import annotations

import re

import pytest
from s4e_platform.kit.ids import new_id
from sqlalchemy import select

from tests.fixtures.asset import create_asset

ASSETS = "/api/v1/assets"
MiB = 1024 * 1024
_VOLATILE = {"last_used_at", "last_used_ip", "updated_at"}  # touched by authenticating, not by the request


def snapshot() -> dict[str, list]:
    """Every row of every table (minus bookkeeping columns), to prove a rejected request wrote nothing."""
    from s4e_platform.db.models import metadata
    from s4e_platform.db.session import unit_of_work

    out = {}
    with unit_of_work(readonly=True) as s:
        for table in metadata.sorted_tables:
            cols = [c for c in table.columns if c.name not in _VOLATILE]
            out[table.name] = sorted(repr(tuple(row)) for row in s.execute(select(*cols)))
    return out


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code, error
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["request_id"] == response.headers["x-request-id"]
    return error


@pytest.fixture
def unchanged(client, tenant):
    """Yields; afterwards the database must be exactly as before the test's bad requests."""
    create_asset(client, tenant, name="before.example.com")
    before = snapshot()
    yield
    assert snapshot() == before, "a rejected request changed the database"


def test_malformed_json_is_400(client, tenant, unchanged):
    for raw in (b'{"name": "a.com",', b"\xff\xfe{", b'{"name": NaN, "type": "domain"}', b"[" * 100_000):
        r = client.post(ASSETS, content=raw, headers={**tenant.headers(), "Content-Type": "application/json"})
        error = assert_error(r, 400, "invalid_json")
        assert error["details"][0]["path"] == "$"


def test_wrong_types_are_422_with_jsonpath(client, tenant, unchanged):
    r = client.post(ASSETS, json={"name": 5, "type": "domain", "tags": ["ok", 7]}, headers=tenant.headers())
    error = assert_error(r, 422, "validation_error")
    paths = {d["path"] for d in error["details"]}
    assert {"$.name", "$.tags[1]"} <= paths, error["details"]
    assert all({"path", "message", "code"} == set(d) for d in error["details"])


def test_unknown_fields_are_422(client, tenant, unchanged):
    r = client.post(ASSETS, json={"name": "x.com", "type": "domain", "colour": "red", "a.b['c']": 1},
                    headers=tenant.headers())
    error = assert_error(r, 422, "validation_error")
    by_path = {d["path"]: d["code"] for d in error["details"]}
    # A hostile member name cannot forge a different path: it is quoted.
    assert by_path == {"$.colour": "unknown_field", "$['a.b[\\'c\\']']": "unknown_field"}, by_path


def test_unknown_and_repeated_query_parameters_are_400(client, tenant, unchanged):
    h = tenant.headers()
    error = assert_error(client.get(f"{ASSETS}?typo=1", headers=h), 400, "unknown_parameter")
    assert error["details"][0]["path"] == "query.typo"
    error = assert_error(client.get(f"{ASSETS}?page=1&page=2", headers=h), 400, "invalid_parameter")
    assert error["details"][0]["path"] == "query.page"
    assert_error(client.get(f"{ASSETS}?per_page=1000", headers=h), 400, "invalid_parameter")
    assert_error(client.delete(f"{ASSETS}/{new_id('ast')}?cascade=true&force=1", headers=h), 400,
                 "unknown_parameter")


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_body_is_413(client, tenant, unchanged, chunked):
    body = b'{"name": "a.com", "type": "domain", "description": "' + b"x" * (MiB + 10) + b'"}'
    content = (body[i:i + 65536] for i in range(0, len(body), 65536)) if chunked else body
    r = client.post(ASSETS, content=content, headers={**tenant.headers(), "Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")


def test_body_just_under_the_limit_is_read(client, tenant):
    pad = MiB - 200
    body = b'{"name": "a.com", "type": "domain", "description": "' + b"x" * pad + b'"}'
    r = client.post(ASSETS, content=body, headers={**tenant.headers(), "Content-Type": "application/json"})
    assert r.status_code != 413, r.text  # reached validation (descriptions have their own, smaller limit)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(client, tenant, unchanged, content_type):
    headers = tenant.headers() | ({"Content-Type": content_type} if content_type else {})
    r = client.post(ASSETS, content=b'{"name": "a.com", "type": "domain"}', headers=headers)
    assert_error(r, 415, "unsupported_media_type")


def test_json_subtypes_are_json(client, tenant):
    r = client.post(ASSETS, content=b'{"name": "a.com", "type": "domain"}',
                    headers={**tenant.headers(), "Content-Type": "application/merge-patch+json; charset=utf-8"})
    assert r.status_code == 201, r.text


def test_authorization_wins_over_body_problems(client, tenant, unchanged):
    malformed = {"Content-Type": "application/json"}
    assert_error(client.post(ASSETS, content=b"{", headers=malformed), 401, "unauthenticated")
    assert_error(client.post(ASSETS, content=b"{}", headers={"Content-Type": "text/plain"}), 401,
                 "unauthenticated")
    viewer = tenant.headers("viewer")
    assert_error(client.post(ASSETS, content=b"{", headers={**viewer, **malformed}), 403, "insufficient_scope")
    assert_error(client.post(ASSETS, content=b"x", headers={**viewer, "Content-Type": "text/plain"}), 403,
                 "insufficient_scope")
    assert_error(client.post(ASSETS, json={"name": 1}, headers=viewer), 403, "insufficient_scope")


def test_ids_of_the_wrong_prefix_or_shape_are_404(client, tenant, unchanged):
    h = tenant.headers()
    asset = client.get(ASSETS, headers=h).json()["data"][0]
    wrong_prefix = "whk_" + asset["id"].split("_", 1)[1]
    for bad in (wrong_prefix, "not-an-id", "ast_" + "z" * 26 + "0", "a" * 300, "ast_%00"):
        assert_error(client.get(f"{ASSETS}/{bad}", headers=h), 404, "not_found")
        assert_error(client.patch(f"{ASSETS}/{bad}", json={"criticality": "low"}, headers=h), 404, "not_found")
        assert_error(client.delete(f"{ASSETS}/{bad}", headers=h), 404, "not_found")
    # Ids are case-insensitive on input (api.md 1.2).
    assert client.get(f"{ASSETS}/{asset['id'].upper()}", headers=h).status_code == 200


def test_request_id_is_echoed_only_when_safe(client, tenant):
    h = tenant.headers()
    r = client.get(ASSETS, headers={**h, "X-Request-ID": "trace-1.a_B"})
    assert r.headers["x-request-id"] == "trace-1.a_B"
    for hostile in (b"has space", b"x" * 65, b"semi;colon", "\u00e9t\u00e9".encode(), b"", b"../../etc"):
        r = client.get(f"{ASSETS}?typo=1", headers={**h, "X-Request-ID": hostile})
        rid = r.headers["x-request-id"]
        assert re.fullmatch(r"req_[0-9a-hjkmnp-tv-z]{26}", rid), rid
        assert r.json()["error"]["request_id"] == rid


def test_method_not_allowed_and_unknown_path_are_enveloped(client, tenant):
    r = client.put(ASSETS, json={}, headers=tenant.headers())
    assert_error(r, 405, "method_not_allowed")
    assert {"GET", "POST"} <= set(r.headers["allow"].replace(" ", "").split(","))
    assert_error(client.get("/api/v1/no-such-thing", headers=tenant.headers()), 404, "not_found")
    assert_error(client.get("/definitely/not/here"), 404, "not_found")


def test_unhandled_errors_are_enveloped_without_internals(database_url):
    from fastapi.testclient import TestClient
    from s4e_platform.kit.router import api_router
    from s4e_platform.main import create_app

    app = create_app()
    router = api_router()

    @router.get("/explode", operation_id="explode")
    def explode():
        """Fails like a bug would."""
        raise RuntimeError("secret internal detail")

    app.include_router(router, prefix="/api/v1")
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/v1/explode", headers={"X-Request-ID": "boom-1"})
    error = assert_error(r, 500, "internal_error")
    assert error["request_id"] == "boom-1"
    assert "secret" not in r.text and "Traceback" not in r.text
