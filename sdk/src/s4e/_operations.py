"""Which API operation (OpenAPI `operationId`) each SDK method and `s4e` command calls.

`@operation("list_assets")` records the id on the function (`__s4e_operations__`) and in REGISTRY. The coverage
test walks the live OpenAPI document, `S4EClient`, `AsyncS4EClient` and the `s4e` command tree and fails naming
every operation without a method or a command, so the SDK cannot silently fall behind the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

ATTRIBUTE = "__s4e_operations__"

REGISTRY: dict[str, list[Callable[..., Any]]] = {}
"""operationId -> the functions (SDK methods and CLI commands) declared to call it."""

EXCLUDED: dict[str, str] = {
    "healthz": "liveness probe for orchestrators; not part of the versioned API",
    "readyz": "readiness probe for orchestrators; not part of the versioned API",
    "login": "starts a browser session (cookie + CSRF token); programs authenticate with keys or OAuth",
    "verify_mfa": "second step of the browser login",
    "refresh_session": "renews a browser session cookie; API keys and OAuth tokens have no session",
    "logout": "ends a browser session",
    "setup_totp": "TOTP enrolment needs a console session (session-only endpoint)",
    "enable_totp": "TOTP enrolment needs a console session (session-only endpoint)",
    "disable_totp": "TOTP changes need a console session, the password and a code",
    "change_password": "password changes need a console session (session-only endpoint)",
}
"""Operations deliberately without an SDK method or CLI command, each with the reason. Only browser-session,
MFA/password and health-probe operations belong here: everything an API-key or OAuth client can call is covered."""


def operation(*operation_ids: str) -> Callable[[F], F]:
    """Declare the API operation(s) the decorated SDK method or CLI command calls."""
    if not operation_ids or not all(isinstance(i, str) and i for i in operation_ids):
        raise ValueError("operation() needs at least one operationId")

    def mark(fn: F) -> F:
        declared = (*getattr(fn, ATTRIBUTE, ()), *operation_ids)
        setattr(fn, ATTRIBUTE, declared)
        for op_id in operation_ids:
            REGISTRY.setdefault(op_id, []).append(fn)
        return fn

    return mark


def operations_of(fn: Any) -> tuple[str, ...]:
    """The operationIds declared on a function (or on the function a wrapper such as functools.wraps wraps)."""
    seen = getattr(fn, ATTRIBUTE, None)
    if seen is None and hasattr(fn, "__wrapped__"):
        return operations_of(fn.__wrapped__)
    return tuple(seen or ())
