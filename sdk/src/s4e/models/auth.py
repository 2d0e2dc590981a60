"""The authenticated principal and server metadata (api.md 2.1, 2.13)."""

from __future__ import annotations

from typing import Optional

from pydantic import Field

from s4e.models._base import S4EModel
from s4e.models.user import User


class WorkspaceRef(S4EModel):
    """A workspace named by id and name."""

    id: str
    """`wsp_` id."""
    name: str
    """Display name."""


class Me(S4EModel):
    """Who the current credential is: `GET /auth/me`."""

    user: User
    """The user behind the credential."""
    workspace: Optional[WorkspaceRef] = None
    """The workspace this credential acts in."""
    role: Optional[str] = None
    """The user's role there."""
    scopes: list[str] = Field(default_factory=list)
    """Effective scopes (credential scopes within the role)."""
    auth_method: str
    """`api_key`, `oauth_client` or `session`."""
    key_id: Optional[str] = None
    """`key_` id when authenticated by API key."""
    client_id: Optional[str] = None
    """`cli_` id when authenticated by an OAuth token."""


class Meta(S4EModel):
    """Server version, mode and optional features: `GET /meta`."""

    version: str
    """Platform version."""
    mode: str
    """`embedded` or `scale_out`."""
    features: dict[str, bool] = Field(default_factory=dict)
    """Optional features available (`pdf`, `sslyze` ...)."""
