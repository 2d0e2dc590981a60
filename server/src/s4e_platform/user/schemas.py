"""User request and response shapes (api.md 2.2). Hashes and secrets never appear here."""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

from pydantic import Field, field_validator

from s4e_platform.kit.schemas import ReadModel, StrictModel, Timestamp

# Deliberately loose (one @, a dot in the domain, no spaces): delivery is the real test of an address.
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def check_timezone(value: str | None) -> str | None:
    # Membership in the tz database listing, not ZoneInfo(value): that would also accept file-path tricks.
    if value is not None and value not in _zones():
        raise ValueError("timezone must be an IANA time zone name such as Europe/Istanbul")
    return value


def check_name(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if _CONTROL.search(value):
        raise ValueError("name must not contain control characters")
    return value


def check_email(value: str) -> str:
    value = value.strip().lower()
    if not EMAIL_RE.match(value) or _CONTROL.search(value):
        raise ValueError("email must look like name@example.com")
    return value


class UserRead(ReadModel):
    id: str = Field(description="usr_ id")
    email: str
    name: str
    timezone: str = Field(description="IANA time zone used by the console")
    is_active: bool = Field(description="False once deactivated; an inactive user cannot sign in")
    is_superuser: bool = Field(description="Instance superuser (manages users and workspaces)")
    mfa_enabled: bool = Field(description="TOTP is active for this user")
    has_password: bool = Field(description="False until a password is set; such a user cannot sign in")
    created_at: Timestamp
    last_login_at: Timestamp | None


class UserCreate(StrictModel):
    email: str = Field(max_length=320, description="Login email (stored lower-case)")
    name: str = Field("", max_length=200, description="Display name")
    password: str | None = Field(None, description="12-256 characters; omit to create a user without one")

    _email = field_validator("email")(lambda cls, v: check_email(v))
    _name = field_validator("name")(lambda cls, v: check_name(v))


class UserMeUpdate(StrictModel):
    name: str | None = Field(None, max_length=200, description="Display name (0-200 characters)")
    timezone: str | None = Field(None, max_length=64, description="IANA time zone, e.g. Europe/Istanbul")

    _name = field_validator("name")(lambda cls, v: check_name(v))
    _tz = field_validator("timezone")(lambda cls, v: check_timezone(v))

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value):
        # Every field is optional, but an explicit null is a mistake rather than "leave unchanged".
        if value is None:
            raise ValueError("must not be null; omit the field to leave it unchanged")
        return value


class UserUpdate(UserMeUpdate):
    is_active: bool | None = Field(None, description="Superuser only")
    is_superuser: bool | None = Field(None, description="Superuser only")
