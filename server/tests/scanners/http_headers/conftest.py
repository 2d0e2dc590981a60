from __future__ import annotations

import ssl

import pytest

from tests.scanners.http_headers.servers import Site, SiteConfig
from tests.scanners.tls.pki import make_leaf


@pytest.fixture(scope="session")
def https_context(tmp_path_factory):
    leaf = make_leaf(None, ips=("127.0.0.1",))
    directory = tmp_path_factory.mktemp("https-cert")
    (directory / "cert.pem").write_bytes(leaf.pem)
    (directory / "key.pem").write_bytes(leaf.key_pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return ctx


@pytest.fixture
def site(tmp_path):
    """Start web sites on loopback port 0: `site(SiteConfig(...), tls=ctx)`; all stop after the test."""
    started = []

    def start(config: SiteConfig, tls: ssl.SSLContext | None = None) -> Site:
        server = Site(tmp_path / f"site{len(started)}", config, tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()
