"""The authenticated caller of a request."""

from __future__ import annotations

from dataclasses import dataclass, field

from s4e_platform.auth.scopes import expand


@dataclass
class Principal:
    type: str  # user | api_key | oauth_client
    user_id: str | None
    name: str
    workspace_id: str | None
    role: str | None
    scopes: frozenset[str]
    is_superuser: bool = False
    key_id: str | None = None
    client_id: str | None = None
    session_id: str | None = None
    asset_restriction: dict = field(default_factory=dict)
    tier: str = "standard"

    @property
    def id(self) -> str | None:
        return self.key_id or self.client_id or self.user_id

    @property
    def via_session(self) -> bool:
        return self.session_id is not None

    def has(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes

    @property
    def restricted(self) -> bool:
        r = self.asset_restriction or {}
        return bool(r.get("asset_ids") or r.get("tags"))

    def actor(self) -> dict:
        """The `actor` of events this principal causes (events.md 1.1)."""
        return {"type": self.type, "id": self.id, "name": self.name}

    def rate_key(self) -> str:
        return f"{self.type}:{self.id}"


SYSTEM_ACTOR = {"type": "system", "id": None, "name": "system"}


def all_scopes() -> frozenset[str]:
    return expand({"admin"})
