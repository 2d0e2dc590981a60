from __future__ import annotations

import pytest

from tests.fixtures.dns import zone  # noqa: F401 (a real loopback DNS server)
from tests.scanners.tls.pki import make_ca
from tests.scanners.tls.servers import LegacyServer, TLSServer


@pytest.fixture(scope="session")
def root_ca():
    return make_ca()


@pytest.fixture(scope="session")
def intermediate_ca(root_ca):
    return make_ca("S4E Test Issuing CA", issuer=root_ca)


@pytest.fixture
def tls_server(tmp_path):
    """Start TLS servers on loopback port 0; all are closed after the test."""
    started = []

    def start(chain, key_pem, **kwargs):
        server = TLSServer(tmp_path, chain, key_pem, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def legacy_server():
    started = []

    def start(certificate_der, **kwargs):
        server = LegacyServer(certificate_der, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()
