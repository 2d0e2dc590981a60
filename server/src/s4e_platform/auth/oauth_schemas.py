"""OAuth 2.0 client-credentials shapes: client management (enveloped) and the RFC 6749 token responses."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from s4e_platform.auth.key_schemas import AssetRestriction, AssetRestrictionRead, Tier, plain_name, plain_text
from s4e_platform.kit.schemas import ReadModel, StrictModel, Timestamp


class OAuthClientCreate(StrictModel):
    name: str = Field(min_length=1, max_length=128, description="Display name")
    description: str = Field("", max_length=1024, description="Free text")
    scopes: list[str] = Field(min_length=1, max_length=64, description="Scopes tokens of this client may carry")
    expires_at: datetime | None = Field(None, description="Optional expiry of the client, in the future")
    asset_restriction: AssetRestriction = Field(default_factory=AssetRestriction,
                                                description="Limit the client's tokens to some assets")
    tier: Tier = Field("standard", description="Rate-limit tier")

    _name = field_validator("name")(lambda cls, v: plain_name(v))
    _text = field_validator("description")(lambda cls, v: plain_text(v))


class OAuthClientRead(ReadModel):
    id: str = Field(description="The client_id (cli_...)")
    name: str
    description: str
    scopes: list[str]
    tier: Tier
    expires_at: Timestamp | None
    asset_restriction: AssetRestrictionRead
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None
    created_at: Timestamp
    created_by: str = Field(description="usr_ id of the admin who created it; tokens act within their role")


class OAuthClientCreated(OAuthClientRead):
    client_secret: str = Field(description="s4e_oc_... secret; shown only in this response")


class TokenResponse(BaseModel):
    """RFC 6749 section 5.1 (not enveloped)."""

    access_token: str = Field(description="JWT for `Authorization: Bearer`")
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Lifetime in seconds (900)")
    scope: str = Field(description="Space-separated granted scopes")


class OAuthErrorResponse(BaseModel):
    """RFC 6749 section 5.2 (not enveloped)."""

    error: Literal["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                   "unsupported_grant_type", "invalid_scope"]
    error_description: str


TOKEN_REQUEST_SCHEMA = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "scope": {"type": "string", "description": "Space-separated subset of the client's scopes; default all"},
        "client_id": {"type": "string", "description": "cli_ id, when not using HTTP Basic"},
        "client_secret": {"type": "string", "description": "s4e_oc_ secret, when not using HTTP Basic"},
    },
}
