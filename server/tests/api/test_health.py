"""Probes, meta and the self-hosted API docs (api.md 2.13, 1.1)."""

from __future__ import annotations

import os
import re
import socket

import pytest
from fastapi.testclient import TestClient


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthz_is_public_and_not_enveloped(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers["x-request-id"].startswith("req_")


def test_readyz_reports_each_check(client):
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok"
    expected = {"database": "ok", "migrations": "ok"}
    if os.environ.get("S4E_REDIS_URL"):
        expected["redis"] = "ok"
    assert body["checks"] == expected


@pytest.fixture
def empty_database(settings, tmp_path):
    """Point the process at an empty SQLite file (no migrations applied), then back."""
    from s4e_platform.db.session import dispose_engine

    original = settings.database_url
    settings.database_url = f"sqlite:///{tmp_path / 'empty.db'}"
    dispose_engine()
    yield
    settings.database_url = original
    dispose_engine()


def test_readyz_is_503_until_migrations_reach_head(empty_database):
    from s4e_platform.main import create_app

    with TestClient(create_app()) as fresh:
        r = fresh.get("/readyz")
    assert r.status_code == 503, r.text
    assert r.json()["status"] == "unavailable"
    assert r.json()["checks"]["database"] == "ok" and r.json()["checks"]["migrations"] == "pending"


@pytest.mark.parametrize("setting", ["redis_url", "broker_url"])
def test_readyz_is_503_when_a_configured_dependency_is_down(client, settings, setting):
    scheme = "redis" if setting == "redis_url" else "amqp"
    setattr(settings, setting, f"{scheme}://127.0.0.1:{closed_port()}/0")
    r = client.get("/readyz")
    assert r.status_code == 503
    check = r.json()["checks"]["redis" if setting == "redis_url" else "broker"]
    assert check.startswith("error"), r.json()


def test_meta_needs_a_principal_and_describes_the_server(client, tenant):
    from s4e_platform import __version__

    assert client.get("/api/v1/meta").status_code == 401
    r = client.get("/api/v1/meta", headers=tenant.headers("viewer"))
    assert r.status_code == 200
    body = r.json()
    assert body["meta"] == {}
    data = body["data"]
    assert data["version"] == __version__
    sqlite = os.environ["S4E_DATABASE_URL"].startswith("sqlite")
    assert data["mode"] == ("embedded" if sqlite else "scale_out")
    assert data["features"] and all(isinstance(v, bool) for v in data["features"].values())
    assert data["features"]["redis"] is bool(os.environ.get("S4E_REDIS_URL"))


def test_openapi_document_is_public(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.json()["openapi"].startswith("3.1.")


_URL_ATTR = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def test_docs_use_only_local_assets(client):
    r = client.get("/api/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert not re.search(r"https?://", html), "docs page references another host"
    assets = _URL_ATTR.findall(html)
    assert {"/api/docs/static/swagger-ui-bundle.js", "/api/docs/static/swagger-ui.css"} <= set(assets)
    for url in assets:
        assert url.startswith("/api/docs/"), url
        served = client.get(url)
        assert served.status_code == 200, url
        kind = served.headers["content-type"]
        if url.endswith(".js"):
            assert "javascript" in kind, (url, kind)
        elif url.endswith(".css"):
            assert kind.startswith("text/css"), (url, kind)
    init = client.get("/api/docs/init.js").text
    assert "/api/v1/openapi.json" in init and not re.search(r"https?://", init)
    assert client.get("/api/docs/static/does-not-exist.js").status_code == 404
