"""The SDK and the `s4e` command cover the live API: every OpenAPI operation has a blocking and an asyncio SDK
method and a command declaring it with `@operation(...)`, and every parameter the server accepts can be passed.

Operations are read from the running app (`create_app().openapi()`), methods from the attributes reachable from
`S4EClient`/`AsyncS4EClient`, commands from the `s4e` command tree: a method or command that is declared but not
reachable does not count. Failures name the operations, so a new endpoint without SDK support fails here.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest

from s4e import AsyncS4EClient, S4EClient
from s4e._operations import EXCLUDED, REGISTRY, operations_of
from s4e.cli.app import app as cli_app
from s4e.resources._base import AsyncResource, SyncResource

METHODS = ("get", "post", "put", "patch", "delete")
PROBES = {"/healthz", "/readyz"}
BROWSER_LOGIN = {"/api/v1/auth/login", "/api/v1/auth/mfa/verify"}

NOT_SDK_PARAMETERS = {
    ("bulk_assets", "operation"): "chosen by calling bulk_create, bulk_update or bulk_delete",
    ("create_oauth_token", "grant_type"): "always client_credentials",
    ("stream_events", "token"): "query-string credential for browsers' EventSource; the SDK sends a header",
}
"""Parameters an SDK method sets itself instead of taking them as arguments."""


@pytest.fixture(scope="module")
def spec() -> dict:
    pytest.importorskip("s4e_platform", reason="s4e-platform is not installed")
    from s4e_platform.main import create_app

    return create_app().openapi()


def operations(spec: dict) -> dict[str, tuple[str, str, dict]]:
    """operationId -> (METHOD, path, operation object)."""
    found = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                found[op["operationId"]] = (method.upper(), path, op)
    return found


def sdk_methods(root: object, prefix: str = "client") -> Iterator[tuple[str, object]]:
    """(`client.assets.verification.get`, function) for every public method reachable from a client."""
    for name, value in vars(root).items():
        if name.startswith("_") or not isinstance(value, (SyncResource, AsyncResource)):
            continue
        where = f"{prefix}.{name}"
        for method, fn in inspect.getmembers(type(value), inspect.isfunction):
            if not method.startswith("_"):
                yield f"{where}.{method}", fn
        yield from sdk_methods(value, where)


def cli_commands(typer_app, prefix: str = "s4e") -> Iterator[tuple[str, object]]:
    """(`s4e assets list`, callback) for every command of the tree."""
    for command in typer_app.registered_commands:
        yield f"{prefix} {command.name or command.callback.__name__}", command.callback
    for group in typer_app.registered_groups:
        yield from cli_commands(group.typer_instance, f"{prefix} {group.name}")


def declared(pairs: Iterator[tuple[str, object]]) -> dict[str, list[str]]:
    """operationId -> where it is declared."""
    found: dict[str, list[str]] = {}
    for where, fn in pairs:
        for op_id in operations_of(fn):
            found.setdefault(op_id, []).append(where)
    return found


def clients() -> tuple[S4EClient, AsyncS4EClient]:
    return (S4EClient(api_key="k", base_url="http://api.test/api/v1"),
            AsyncS4EClient(api_key="k", base_url="http://api.test/api/v1"))


def required(spec: dict) -> set[str]:
    return set(operations(spec)) - set(EXCLUDED)


def test_every_operation_has_a_blocking_and_an_asyncio_sdk_method(spec):
    sync, asyncc = clients()
    missing_sync = sorted(required(spec) - set(declared(sdk_methods(sync))))
    missing_async = sorted(required(spec) - set(declared(sdk_methods(asyncc))))
    assert missing_sync == [], f"operations without an S4EClient method: {missing_sync}"
    assert missing_async == [], f"operations without an AsyncS4EClient method: {missing_async}"


def test_every_operation_has_a_cli_command(spec):
    missing = sorted(required(spec) - set(declared(cli_commands(cli_app))))
    assert missing == [], f"operations without an `s4e` command: {missing}"


def test_declarations_name_real_operations_and_are_reachable(spec):
    sync, asyncc = clients()
    reachable = {*(fn for _, fn in sdk_methods(sync)), *(fn for _, fn in sdk_methods(asyncc)),
                 *(fn for _, fn in cli_commands(cli_app))}
    unknown = sorted(set(REGISTRY) - set(operations(spec)))
    assert unknown == [], f"@operation names operationIds the API does not have: {unknown}"
    reachable_ids = {id(fn) for fn in reachable} | {id(inspect.unwrap(fn)) for fn in reachable}
    orphans = sorted(f"{fn.__module__}.{fn.__qualname__}" for fns in REGISTRY.values() for fn in fns
                     if id(fn) not in reachable_ids)
    assert orphans == [], f"declared but not reachable from the clients or the command tree: {orphans}"


def test_only_browser_session_and_probe_operations_are_excluded(spec):
    ops = operations(spec)
    stale = sorted(set(EXCLUDED) - set(ops))
    assert stale == [], f"excluded operations the API no longer has: {stale}"
    for op_id, reason in EXCLUDED.items():
        _, path, op = ops[op_id]
        assert reason.strip(), op_id
        assert op.get("x-s4e-auth") == "session" or path in PROBES | BROWSER_LOGIN, \
            f"{op_id} ({path}) is callable with an API key or OAuth token: cover it instead of excluding it"
    assert {"get_me", "get_meta"}.isdisjoint(EXCLUDED)


def _body_fields(op: dict, spec: dict) -> set[str]:
    fields: set[str] = set()
    for content in (op.get("requestBody") or {}).get("content", {}).values():
        schema = content.get("schema") or {}
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        fields |= set(schema.get("properties", {}))
    return fields


def test_sdk_methods_take_every_parameter_the_server_accepts(spec):
    sync, _ = clients()
    accepted: dict[str, set[str]] = {}
    for _, fn in sdk_methods(sync):
        names = {p.rstrip("_") for p in inspect.signature(fn).parameters}
        for op_id in operations_of(fn):
            accepted.setdefault(op_id, set()).update(names)
    gaps = []
    for op_id in sorted(required(spec)):
        _, _, op = operations(spec)[op_id]
        wanted = {p["name"] for p in op.get("parameters", []) if p["in"] in ("query", "path")}
        wanted |= _body_fields(op, spec)
        gaps += [f"{op_id}: {name}" for name in sorted(wanted - accepted.get(op_id, set()))
                 if (op_id, name) not in NOT_SDK_PARAMETERS]
    assert gaps == [], f"server parameters the SDK cannot send: {gaps}"


NO_QUIET = {"s4e events export": "prints SIEM records, which have no ids to reduce to"}


def test_every_api_command_offers_json_and_quiet():
    missing = []
    for where, fn in cli_commands(cli_app):
        if not operations_of(fn):
            continue
        params = inspect.signature(fn).parameters
        if "json_output" not in params:
            missing.append(f"{where}: --json")
        if "quiet" not in params and where not in NO_QUIET:
            missing.append(f"{where}: --quiet")
    assert missing == [], f"commands without the standard output options: {missing}"
