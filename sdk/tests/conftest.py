"""SDK test setup. Unit tests use httpx.MockTransport or loopback servers; the contract and CLI tests drive the
real platform app in-process (its test fixtures are reused, so the same SQLite/PostgreSQL switches apply).

This directory is deliberately not a package: the server's tests already own the top-level name `tests`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_DIR = Path(__file__).resolve().parents[2] / "server"
if str(SERVER_DIR) not in sys.path:
    sys.path.insert(0, str(SERVER_DIR))

try:  # The platform is optional for the SDK: without it the contract and CLI tests are skipped.
    # isort: off
    # The server's conftest first: it sets the S4E_* test environment before any platform module loads.
    from tests.conftest import _cheap_password_hashing as _cheap_password_hashing  # noqa: F401 (autouse)
    from tests.conftest import _empty_tables, _reset_process_state
    from tests.conftest import app as app  # noqa: F401 (fixture)
    from tests.conftest import database_url as database_url  # noqa: F401 (fixture)
    from tests.conftest import settings as settings  # noqa: F401 (fixture)
    from tests.fixtures.auth import Tenant, make_tenant
    # isort: on

    HAVE_PLATFORM = True
except ImportError:
    HAVE_PLATFORM = False

BASE_URL = "http://testserver/api/v1"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No developer credentials or profiles leak into a test: fresh HOME and config dir, no S4E_* client env."""
    for name in ("S4E_API_KEY", "S4E_BASE_URL", "S4E_PROFILE", "S4E_WORKSPACE", "S4E_CLIENT_ID", "S4E_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Backoff delays the SDK asked for, without actually sleeping."""
    from s4e import _transport

    recorded: list[float] = []

    async def fake_async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(_transport, "_sleep", recorded.append)
    monkeypatch.setattr(_transport, "_async_sleep", fake_async_sleep)
    return recorded


@dataclass
class Platform:
    http: object  # starlette TestClient (an httpx.Client)
    tenant: Tenant
    _other: Tenant | None = None

    @property
    def other(self) -> Tenant:
        """A second workspace, made on first use (members' password hashing is slow)."""
        if self._other is None:
            self._other = make_tenant("other")
        return self._other

    def client(self, role: str = "admin", **kwargs):
        from s4e import S4EClient

        return S4EClient(api_key=self.tenant.keys[role], base_url=BASE_URL, http_client=self.http, **kwargs)


@pytest.fixture
def platform(request):
    """The real platform app in-process over an empty migrated database, with two tenants."""
    if not HAVE_PLATFORM:
        pytest.skip("s4e-platform is not installed")
    from fastapi.testclient import TestClient

    request.getfixturevalue("database_url")
    _reset_process_state()
    with TestClient(request.getfixturevalue("app"), base_url="http://testserver") as http:
        try:
            yield Platform(http=http, tenant=make_tenant("sdk", superuser=True))
        finally:
            _empty_tables()
            _reset_process_state()


@pytest.fixture
def zone(platform, request):
    """A loopback DNS server answering TXT queries from `zone.txt[name]`; verification resolves through it."""
    from dnslib import QTYPE, RR, TXT
    from dnslib.server import BaseResolver, DNSLogger, DNSServer

    class Zone(BaseResolver):
        def __init__(self) -> None:
            self.txt: dict[str, list[str]] = {}

        def resolve(self, request, handler):
            reply = request.reply()
            name = str(request.q.qname).rstrip(".").lower()
            if name not in self.txt:
                reply.header.rcode = 3  # NXDOMAIN
            elif request.q.qtype == QTYPE.TXT:
                for value in self.txt[name]:
                    reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=1))
            return reply

    settings = request.getfixturevalue("settings")
    resolver = Zone()
    server = DNSServer(resolver, address="127.0.0.1", port=0, logger=DNSLogger(logf=lambda _msg: None))
    server.start_thread()
    settings.dns_nameservers = f"127.0.0.1:{server.server.server_address[1]}"
    yield resolver
    server.stop()


@pytest.fixture
def receiver(platform, request):
    """A webhook receiver on 127.0.0.1 (allowlisted for the SSRF guard) and fast retries (the platform's own
    test receiver)."""
    from tests.webhook.conftest import Receiver

    settings = request.getfixturevalue("settings")
    settings.outbound_allowlist = "127.0.0.1"
    settings.webhook_retry_schedule = "0.05,0.05"
    settings.webhook_timeout = 5.0
    r = Receiver()
    yield r
    r.close()
