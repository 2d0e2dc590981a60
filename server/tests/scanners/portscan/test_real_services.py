"""The machine's real Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432), judged against what their own
client libraries can do without credentials."""

from __future__ import annotations

import socket

import psycopg
import pytest
import redis
from s4e_platform.scanners.base import ScanContext, ScanTarget
from s4e_platform.scanners.registry import get

from tests.scanners.portscan.conftest import FAST


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def real():
    ports = [p for p in (6379, 5432) if _listening(p)]
    if not ports:
        pytest.skip("no Redis or PostgreSQL on 127.0.0.1")
    ctx = ScanContext(allowed_networks=["127.0.0.0/8"])
    result = get("port_scan").run(ScanTarget("ip", "127.0.0.1"), {"ports": ports, **FAST}, ctx)
    return {s.port: s for s in result.services}, {(f.check_id, f.location.port) for f in result.findings}


def test_redis(real):
    services, found = real
    if 6379 not in services:
        pytest.skip("no Redis on 127.0.0.1:6379")
    client = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2)
    try:
        client.ping()
        open_to_anyone = True
    except redis.AuthenticationError:
        open_to_anyone = False
    observed = services[6379]
    assert (observed.service, observed.product) == ("redis", "Redis")
    assert observed.details["auth_required"] is (not open_to_anyone)
    assert (("redis_unauthenticated", 6379) in found) is open_to_anyone
    if open_to_anyone:
        assert observed.version == client.info("server")["redis_version"]
        assert observed.cpe == [f"cpe:2.3:a:redis:redis:{observed.version}:*:*:*:*:*:*:*"]


def test_postgresql(real):
    services, found = real
    if 5432 not in services:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    try:
        with psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres",
                             connect_timeout=3) as conn:
            server_version = conn.execute("SHOW server_version").fetchone()[0]
        trusted = True
    except psycopg.OperationalError:
        trusted = False
    observed = services[5432]
    assert (observed.service, observed.product) == ("postgresql", "PostgreSQL")
    assert isinstance(observed.details["ssl"], bool)
    assert (observed.details.get("auth") == "trust") is trusted
    assert (("postgresql_trust_auth", 5432) in found) is trusted
    if trusted:
        assert server_version.startswith(observed.version)
    else:
        assert observed.version is None
