"""Users of the instance (api.md 2.2)."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from s4e.models._base import RequestModel, S4EModel


class User(S4EModel):
    """A user account."""

    id: str
    """`usr_` id."""
    email: str
    """Login email (lower-case)."""
    name: str = ""
    """Display name."""
    timezone: str = "UTC"
    """IANA time zone used by the console."""
    is_active: bool = True
    """False once deactivated."""
    is_superuser: bool = False
    """Instance superuser (manages users and workspaces)."""
    mfa_enabled: bool = False
    """TOTP is on."""
    has_password: Optional[bool] = None
    """False until a password is set."""
    created_at: Optional[datetime] = None
    """Creation time."""
    last_login_at: Optional[datetime] = None
    """Last console sign-in."""


class UserCreate(RequestModel):
    """Body of `POST /users` (superuser)."""

    email: str
    """Login email."""
    name: Optional[str] = None
    """Display name."""
    password: Optional[str] = None
    """12-256 characters; omit to create the user without one (invite)."""


class UserUpdate(RequestModel):
    """Body of `PATCH /users/{id}` and `PATCH /users/me`."""

    name: Optional[str] = None
    """Display name."""
    timezone: Optional[str] = None
    """IANA time zone."""
    is_active: Optional[bool] = None
    """Superuser only."""
    is_superuser: Optional[bool] = None
    """Superuser only."""
