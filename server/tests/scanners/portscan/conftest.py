"""Fixtures for the port scanner tests: loopback peers and a scan context allowed to reach loopback."""

from __future__ import annotations

import socket

import pytest
from s4e_platform.scanners.base import ScanContext

from tests.fixtures.dns import zone  # noqa: F401 (a real loopback DNS server for domain targets)
from tests.scanners.portscan.servers import LoopbackServers

# Short probe waits keep the suite fast; every peer answers within milliseconds on loopback.
FAST = {"probe_timeout_ms": 1000, "rate_limit": 1000}


@pytest.fixture(scope="module")
def peers():
    servers = LoopbackServers()
    yield servers
    servers.close()


@pytest.fixture
def loopback_ctx() -> ScanContext:
    return ScanContext(allowed_networks=["127.0.0.0/8", "::1/128"])


@pytest.fixture
def closed_ports():
    """Ports guaranteed closed for the test: bound without listening, so nothing else can listen there."""
    sockets = []
    for _ in range(20):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    yield [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
