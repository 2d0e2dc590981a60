"""Access matrix over every operation of the live OpenAPI document (api.md 1.3-1.6).

For each operation, with its path parameters filled by real objects of workspace A (tests/fixtures/objects.py):
1. an anonymous caller gets 401, even with a malformed body;
2. a credential lacking the required scope, role, console session or superuser flag gets 403, even with an
   invalid body;
3. a member of workspace B gets 404 for A's objects (the owner, meanwhile, can read them), even with an
   incomplete body: authorization always wins over body validation.
Operations are read from `x-s4e-auth`, so new routes are covered the moment they exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from s4e_platform.auth.scopes import ROLE_SCOPES, ROLES, SCOPES, expand

from tests.fixtures.objects import FACTORIES, World, absent_id, console_session, path_parameters
from tests.fixtures.openapi import Operation, operations

OPERATIONS = operations()
# Rule tokens other than scopes; several tokens are alternatives ("session admin": a session, or `admin`).
KINDS = {"public", "any", "member", "session", "superuser"}


@dataclass(frozen=True)
class Rule:
    kinds: frozenset[str]
    scopes: frozenset[str]

    @property
    def anonymous_allowed(self) -> bool:
        return "public" in self.kinds

    @property
    def keys_allowed(self) -> bool:
        """False for operations only a console session may call."""
        return bool(self.scopes) or bool(self.kinds - {"session"})


def parse_rule(op: Operation) -> Rule:
    if not op.rule:
        pytest.fail(f"{op} has no x-s4e-auth")
    tokens = op.rule.split()
    unknown = [t for t in tokens if t not in KINDS and t not in SCOPES]
    if unknown:
        pytest.fail(f"{op}: x-s4e-auth {op.rule!r} has unknown token(s) {unknown}; declare access with "
                    f"require(scope), any_principal, session_only, superuser or public")
    return Rule(frozenset(t for t in tokens if t in KINDS), frozenset(t for t in tokens if t in SCOPES))


def send(client, op: Operation, path: str, headers: dict, body: str):
    """Call `op`; `body` picks what a body-taking operation receives: malformed, unknown_field or empty."""
    kwargs: dict = {}
    if op.has_body:
        if "application/json" not in op.body_media_types():
            media = sorted(op.body_media_types())[0]
            kwargs = {"content": b"\x00 not a valid document", "headers": {**headers, "Content-Type": media}}
        elif body == "malformed":
            kwargs = {"content": b'{"s4e_probe": ', "headers": {**headers, "Content-Type": "application/json"}}
        elif body == "unknown_field":
            kwargs = {"json": {"s4e_probe": True}}
        else:
            kwargs = {"json": {}}
    kwargs.setdefault("headers", headers)
    return client.request(op.method, path, **kwargs)


def verdict(response, status: int, codes: set[str]) -> str | None:
    """None when the response is the expected error envelope, else what was wrong."""
    if response.status_code != status:
        return f"expected {status}, got {response.status_code}: {response.text[:300]}"
    error = (response.json() or {}).get("error") or {}
    if error.get("code") not in codes:
        return f"expected error code in {sorted(codes)}, got {error.get('code')!r}"
    if error.get("request_id") != response.headers.get("x-request-id"):
        return "error.request_id differs from the X-Request-ID header"
    return None


def check_anonymous(client, op: Operation, rule: Rule, path: str) -> list[str]:
    if rule.anonymous_allowed:
        return []
    problem = verdict(send(client, op, path, {}, "malformed"), 401, {"unauthenticated"})
    return [f"anonymous caller: {problem}"] if problem else []


def lacking_scope(rule: Rule) -> list[str]:
    """One scope that implies none of the required ones."""
    for candidate in ("read:events", "read:assets", "read:webhooks"):
        if not expand([candidate]) & rule.scopes:
            return [candidate]
    raise AssertionError(f"no scope outside {sorted(rule.scopes)}")


def check_lacking_permission(client, world: World, op: Operation, rule: Rule, path: str) -> list[str]:
    """The developer of A is a member but no superuser; a key is never a console session."""
    if rule.kinds & {"any", "member", "public"}:
        return []
    tenant, problems = world.tenant, []
    if rule.scopes:
        key = tenant.key(lacking_scope(rule), role="developer")
        response = send(client, op, path, {"Authorization": f"Bearer {key}"}, "unknown_field")
        problem = verdict(response, 403, {"insufficient_scope", "forbidden"})
        if problem is None and response.json()["error"]["code"] == "insufficient_scope":
            required = set(response.json()["error"]["details"].get("required", []))
            if required != set(rule.scopes):
                problem = f"details.required {sorted(required)} != x-s4e-auth scopes {sorted(rule.scopes)}"
        if problem:
            problems.append(f"key without {sorted(rule.scopes)}: {problem}")
        # Key scopes AND role (api.md 1.4): an all-scope key of a member whose role lacks the scope.
        weak = [r for r in ROLES if not ROLE_SCOPES[r] & rule.scopes and r != "admin"]
        if weak:
            response = send(client, op, path, tenant.headers(weak[0]), "unknown_field")
            problem = verdict(response, 403, {"insufficient_scope", "forbidden"})
            if problem:
                problems.append(f"all-scope key of a {weak[0]}: {problem}")
    else:  # session-only or superuser-only
        response = send(client, op, path, tenant.headers("developer"), "unknown_field")
        problem = verdict(response, 403, {"forbidden"})
        if problem:
            problems.append(f"API key of a non-superuser developer: {problem}")
    return problems


def check_other_workspace(client, world: World, other, op: Operation, rule: Rule) -> list[str]:
    names = path_parameters(op.path)
    if not names or rule.anonymous_allowed or rule.kinds == {"superuser"}:
        return []  # nothing of A's in the path, or an instance-wide operation
    path = world.fill(op.path)
    owner = world.tenant.headers() if rule.keys_allowed else console_session(world.tenant.users["admin"])
    stranger = other.headers() if rule.keys_allowed else console_session(other.users["admin"])
    problems = []
    if op.method == "GET":
        seen = client.get(path, headers=owner)
        if seen.status_code >= 400:
            problems.append(f"the owner cannot read {path}: {seen.status_code} {seen.text[:200]} "
                            f"(is the factory's object real?)")
    response = send(client, op, path, stranger, "empty")
    if all(FACTORIES[n].shared for n in names):
        # Shared catalog entries: the other workspace's member is answered as the owner is (read) or at least
        # never told the entry is missing (write).
        if op.method == "GET" and response.status_code != seen.status_code:
            problems.append(f"member of another workspace on shared {path}: {response.status_code}, the owner "
                            f"got {seen.status_code}")
        elif response.status_code == 404:
            problems.append(f"member of another workspace on shared {path}: 404 {response.text[:200]}")
        return problems
    if any(FACTORIES[n].workspace_scoped for n in names):
        problem = verdict(response, 404, {"not_found"})
        if problem:
            problems.append(f"member of another workspace on {path}: {problem}")
        return problems
    # Only instance-level objects (users): 403 is allowed, but it must not reveal whether the id exists.
    absent = op.path
    for name in names:
        absent = absent.replace("{" + name + "}", absent_id(name))
    control = send(client, op, absent, stranger, "empty")
    if response.status_code not in (403, 404) or (response.status_code, response.json()["error"]["code"]) != (
            control.status_code, control.json()["error"]["code"]):
        problems.append(f"member of another workspace: {response.status_code} on {path} but "
                        f"{control.status_code} on an absent id (existence oracle or access)")
    return problems


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.operation_id for op in OPERATIONS])
def test_access(op: Operation, client, world: World, other_tenant):
    rule = parse_rule(op)
    path = world.fill(op.path)
    problems = check_anonymous(client, op, rule, path)
    problems += check_lacking_permission(client, world, op, rule, path)
    problems += check_other_workspace(client, world, other_tenant, op, rule)
    assert not problems, f"{op}:\n  " + "\n  ".join(problems)


def test_every_route_declares_its_access():
    undeclared = [str(op) for op in OPERATIONS if op.rule in (None, "undeclared")]
    assert not undeclared, ("operations without an access dependency (require/any_principal/session_only/"
                            f"superuser/public): {undeclared}")


def test_every_path_parameter_has_a_factory():
    missing = sorted({f"{name} (in {op})" for op in OPERATIONS for name in path_parameters(op.path)
                      if name not in FACTORIES})
    assert not missing, f"add factories in tests/fixtures/objects.py for: {missing}"
