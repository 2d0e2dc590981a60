"""Property-based fuzzing of every operation in the live OpenAPI document (schemathesis 4, in-process ASGI).

Each operation gets a handful of generated requests (valid and deliberately invalid) sent with an admin API key.
Path parameters are replaced by real objects of the workspace (tests/fixtures/objects.py), so handlers run past
their 404s. Checks: no 5xx, status codes documented, and bodies conforming to the documented schemas.
Bounded: few examples, no shrinking, coverage and stateful phases off, so the file stays well under 3 minutes.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.fixtures.objects import World, console_session, path_parameters
from tests.fixtures.openapi import live_document

# S4E_FUZZ_EXAMPLES raises the per-operation budget for a deeper (slower) run, e.g. nightly.
EXAMPLES = int(os.environ.get("S4E_FUZZ_EXAMPLES", "6"))
CONFIG = schemathesis.Config.from_dict({
    "generation": {"max-examples": EXAMPLES, "no-shrink": EXAMPLES <= 6, "database": "none",
                   "deterministic": EXAMPLES <= 6},
    "phases": {"coverage": {"enabled": EXAMPLES > 6}, "stateful": {"enabled": False}},
})
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def _load():
    from s4e_platform.main import create_app

    # Loaded at collection (pytest 9 no longer supports schemathesis' lazy fixture loader); the app needs no
    # database until a request arrives, and every request goes through the same process-wide engine.
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(), config=CONFIG)


schema = _load()


@pytest.fixture
def fuzz_world(world: World) -> World:
    # A successful SSE request would stream for an hour; end streams quickly so the fuzzer can read them.
    world.settings.sse_max_seconds = 0.3
    world.settings.sse_heartbeat_seconds = 0.1
    return world


@pytest.fixture
def credentials(fuzz_world: World) -> dict[str, dict]:
    """The workspace admin's API key, and a console session of the same admin for session-only operations."""
    return {"key": fuzz_world.tenant.headers(), "session": console_session(fuzz_world.tenant.users["admin"])}


@schema.parametrize()
# The world fixture is deliberately shared by an operation's examples: objects accumulate like in real use.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_api_conforms_to_its_schema(case, fuzz_world: World, credentials: dict[str, dict]):
    names = path_parameters(case.operation.path)
    if names:
        filled = {name: fuzz_world.get(name) for name in names}
        case.path_parameters = {**(case.path_parameters or {}), **filled}
    # The coverage phase also tries undocumented methods (TRACE ...), which have no rule of their own.
    rule = live_document()["paths"][case.operation.path].get(case.method.lower(), {}).get("x-s4e-auth")
    headers = credentials["session"] if rule == "session" else credentials["key"]
    case.call_and_validate(headers=dict(headers), checks=CHECKS)  # schemathesis adds to the dict it gets
