"""API key request and response shapes (api.md 1.4); the asset restriction is shared with OAuth clients."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from s4e_platform.kit.schemas import ReadModel, StrictModel, Timestamp

Tier = Literal["standard", "premium", "enterprise"]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # free text may keep tabs and newlines


def plain_name(value: str | None) -> str | None:
    """A one-line display name: not blank, no control characters (NUL cannot even be stored in PostgreSQL)."""
    if value is None:
        return value
    if not value.strip():
        raise ValueError("must not be blank")
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def plain_text(value: str | None) -> str | None:
    if value is not None and _CONTROL_IN_TEXT.search(value):
        raise ValueError("must not contain control characters other than tab and newline")
    return value


class AssetRestriction(StrictModel):
    """Both lists empty = every asset of the workspace."""

    asset_ids: list[str] = Field(default_factory=list, max_length=1000, description="ast_ ids the key may see")
    tags: list[str] = Field(default_factory=list, max_length=50, description="Assets carrying any of these tags")


class AssetRestrictionRead(ReadModel):
    asset_ids: list[str] = []
    tags: list[str] = []


class ApiKeyCreate(StrictModel):
    name: str = Field(min_length=1, max_length=128, description="Display name")
    description: str = Field("", max_length=1024, description="Free text")
    scopes: list[str] = Field(min_length=1, max_length=64, description="Scopes (api.md 1.5)")
    expires_at: datetime | None = Field(None, description="Optional expiry, in the future")
    asset_restriction: AssetRestriction = Field(default_factory=AssetRestriction,
                                                description="Limit the key to some assets")
    tier: Tier = Field("standard", description="Rate-limit tier; premium/enterprise need admin")

    _name = field_validator("name")(lambda cls, v: plain_name(v))
    _text = field_validator("description")(lambda cls, v: plain_text(v))


class ApiKeyUpdate(StrictModel):
    name: str | None = Field(None, min_length=1, max_length=128, description="New name")
    description: str | None = Field(None, max_length=1024, description="New description")

    _name = field_validator("name")(lambda cls, v: plain_name(v))
    _text = field_validator("description")(lambda cls, v: plain_text(v))


class ApiKeyRead(ReadModel):
    id: str
    name: str
    description: str
    prefix: str = Field(description="First 8 characters after s4e_live_, for recognising the key")
    scopes: list[str]
    tier: Tier
    expires_at: Timestamp | None
    asset_restriction: AssetRestrictionRead
    last_used_at: Timestamp | None
    last_used_ip: str | None
    revoked_at: Timestamp | None
    created_at: Timestamp
    user_id: str


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The full key; shown only in this response")
