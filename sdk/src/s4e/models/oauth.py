"""OAuth 2.0 clients and client-credentials access tokens (api.md 1.3, 1.4, 2.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from pydantic import Field

from s4e.models._base import RequestModel, S4EModel
from s4e.models.key import AssetRestriction, AssetRestrictionInput, Tier


class OAuthClient(S4EModel):
    """An OAuth client of the workspace (its secret is never returned after creation or rotation)."""

    id: str
    """The `client_id` (`cli_...`)."""
    name: str
    """Display name."""
    description: str = ""
    """Free text."""
    scopes: list[str] = Field(default_factory=list)
    """Scopes its tokens may carry (within the creating admin's role)."""
    tier: str = "standard"
    """Rate-limit tier."""
    expires_at: Optional[datetime] = None
    """Expiry of the client, if any."""
    asset_restriction: AssetRestriction = Field(default_factory=AssetRestriction)
    """Assets its tokens may see."""
    last_used_at: Optional[datetime] = None
    """Last token request or authenticated call."""
    revoked_at: Optional[datetime] = None
    """When it was revoked."""
    created_at: datetime
    """Creation time."""
    created_by: Optional[str] = None
    """`usr_` id of the admin who created it; its tokens act within that admin's role."""


class OAuthClientWithSecret(OAuthClient):
    """The create and rotate-secret responses: the only time the secret is shown."""

    client_secret: str
    """The `s4e_oc_...` secret; store it now."""


class OAuthClientCreate(RequestModel):
    """Body of `POST /oauth/clients`."""

    name: str
    """1-128 characters."""
    scopes: list[str]
    """Scopes (api.md 1.5) tokens of this client may carry."""
    description: Optional[str] = None
    """Free text."""
    expires_at: Optional[datetime] = None
    """Optional expiry in the future."""
    asset_restriction: Optional[AssetRestrictionInput] = None
    """Limit the client's tokens to some assets."""
    tier: Optional[Tier] = None
    """Rate-limit tier (premium/enterprise need admin)."""


class AccessToken(S4EModel):
    """An access token from `POST /oauth/token` (RFC 6749 section 5.1, not enveloped)."""

    access_token: str
    """The JWT to send as `Authorization: Bearer ...`."""
    token_type: str = "Bearer"
    """Always `Bearer`."""
    expires_in: int
    """Lifetime in seconds (900); tokens cannot be refreshed, request a new one."""
    scope: str = ""
    """Space-separated scopes granted."""
    expires_at: Optional[datetime] = None
    """When it expires by this machine's clock (computed by the SDK from `expires_in`)."""

    @property
    def scopes(self) -> list[str]:
        """The granted scopes as a list."""
        return self.scope.split()
