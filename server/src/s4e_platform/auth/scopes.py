"""Scopes and roles (api.md 1.5). Effective permission = credential scopes AND the owner's current role."""

from __future__ import annotations

AREAS = ("assets", "scans", "findings", "actions", "playbooks", "webhooks", "integrations", "reports", "agents")
SCOPES: tuple[str, ...] = tuple(f"{verb}:{area}" for area in AREAS for verb in ("read", "write")) + (
    "read:events", "admin")
ROLES = ("viewer", "analyst", "developer", "admin")

_READ_ALL = {f"read:{a}" for a in AREAS} | {"read:events"}
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "viewer": frozenset(_READ_ALL),
    "analyst": frozenset(_READ_ALL | {"write:findings", "write:scans", "write:assets", "write:reports"}),
}
ROLE_SCOPES["developer"] = frozenset(ROLE_SCOPES["analyst"] | {
    "write:actions", "write:playbooks", "write:webhooks", "write:integrations", "write:agents"})
ROLE_SCOPES["admin"] = frozenset(SCOPES)


def expand(scopes: set[str] | frozenset[str] | list[str]) -> frozenset[str]:
    """Close a scope set under the implications `admin` -> all and `write:x` -> `read:x`."""
    out = set(scopes)
    if "admin" in out:
        return frozenset(SCOPES)
    for s in list(out):
        if s.startswith("write:"):
            out.add("read:" + s.split(":", 1)[1])
    return frozenset(out)


def effective(credential_scopes: list[str] | None, role: str) -> frozenset[str]:
    role_set = ROLE_SCOPES.get(role, frozenset())
    if credential_scopes is None:  # console session: the role itself
        return role_set
    return expand(credential_scopes) & role_set


def grantable(role: str) -> frozenset[str]:
    """Scopes a member of `role` may put on a key they create."""
    return ROLE_SCOPES.get(role, frozenset())
