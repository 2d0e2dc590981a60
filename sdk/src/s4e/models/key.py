"""API keys (api.md 1.4, 2.2)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Optional

from pydantic import Field

from s4e.models._base import RequestModel, S4EModel

Tier = Literal["standard", "premium", "enterprise"]


class AssetRestriction(S4EModel):
    """Assets a key may see; both lists empty = every asset of the workspace."""

    asset_ids: list[str] = Field(default_factory=list)
    """Allowed `ast_` ids."""
    tags: list[str] = Field(default_factory=list)
    """Assets carrying any of these tags."""


class AssetRestrictionInput(RequestModel):
    """Asset restriction of a new key."""

    asset_ids: list[str] = Field(default_factory=list)
    """Allowed `ast_` ids."""
    tags: list[str] = Field(default_factory=list)
    """Assets carrying any of these tags."""


class ApiKey(S4EModel):
    """An API key (the secret itself is never returned after creation)."""

    id: str
    """`key_` id."""
    name: str
    """Display name."""
    description: str = ""
    """Free text."""
    prefix: str = ""
    """First 8 characters after `s4e_live_`, to recognise the key."""
    scopes: list[str] = Field(default_factory=list)
    """Granted scopes (effective = scopes within the owner's role)."""
    tier: str = "standard"
    """Rate-limit tier."""
    expires_at: Optional[datetime] = None
    """Expiry, if any."""
    asset_restriction: AssetRestriction = Field(default_factory=AssetRestriction)
    """Assets it may see."""
    last_used_at: Optional[datetime] = None
    """Last authenticated request (minute granularity)."""
    last_used_ip: Optional[str] = None
    """Client address of that request."""
    revoked_at: Optional[datetime] = None
    """When it was revoked."""
    created_at: datetime
    """Creation time."""
    user_id: Optional[str] = None
    """Owner (`usr_`)."""


class ApiKeyWithSecret(ApiKey):
    """The create response: the only time the full key is shown."""

    key: str
    """The full `s4e_live_...` key; store it now."""


class ApiKeyCreate(RequestModel):
    """Body of `POST /api-keys`."""

    name: str
    """1-128 characters."""
    scopes: list[str]
    """Scopes (api.md 1.5), within your role."""
    description: Optional[str] = None
    """Free text."""
    expires_at: Optional[datetime] = None
    """Optional expiry in the future."""
    asset_restriction: Optional[AssetRestrictionInput] = None
    """Limit the key to some assets."""
    tier: Optional[Tier] = None
    """Rate-limit tier (premium/enterprise need admin)."""


class ApiKeyUpdate(RequestModel):
    """Body of `PATCH /api-keys/{id}`."""

    name: Optional[str] = None
    """New name."""
    description: Optional[str] = None
    """New description."""
