"""Contract tests: a recording hop in front of the in-process app, and the record of which API operations the
contract tests exercised, checked by test_contract_coverage.py after all of them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

BASE_URL = "http://testserver/api/v1"
HERE = Path(__file__).resolve().parent
COVERAGE_TEST = "test_contract_coverage.py"


def pytest_collection_modifyitems(session, config, items):
    """The operation-coverage check runs right after the other contract tests (before any later directory)."""
    check = [i for i in items if Path(str(i.fspath)).name == COVERAGE_TEST]
    rest = [i for i in items if i not in check]
    ours = [n for n, i in enumerate(rest) if Path(str(i.fspath)).resolve().parent == HERE]
    at = ours[-1] + 1 if ours else len(rest)
    items[:] = rest[:at] + check + rest[at:]


@pytest.fixture(scope="session")
def exercised() -> set[str]:
    """operationIds of the routes the app served while contract tests ran (in-process or over loopback)."""
    pytest.importorskip("s4e_platform", reason="s4e-platform is not installed")
    from fastapi.routing import APIRoute
    from starlette.routing import Match

    seen: set[str] = set()
    original = APIRoute.matches

    def matches(self, scope):
        match, child = original(self, scope)
        if match == Match.FULL and self.operation_id:
            seen.add(self.operation_id)
        return match, child

    APIRoute.matches = matches
    yield seen
    APIRoute.matches = original


@pytest.fixture(autouse=True)
def _record_operations(request):
    if "platform" in request.fixturenames:
        request.getfixturevalue("platform")  # skips first when the platform is not installed
        request.getfixturevalue("exercised")


class Recorder(httpx.BaseTransport):
    """Forwards every request to the in-process app and remembers what was sent."""

    def __init__(self, app_client: httpx.Client) -> None:
        self.app_client = app_client
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        upstream = self.app_client.send(request)
        return httpx.Response(upstream.status_code, headers=upstream.headers, content=upstream.content,
                              request=request)

    def sent(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/api/v1" + path]


@pytest.fixture
def recorder(platform) -> Recorder:
    return Recorder(platform.http)
