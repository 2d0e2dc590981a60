"""Workspaces, members and invitations (api.md 2.2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Optional

from pydantic import Field

from s4e.models._base import RequestModel, S4EModel

Role = Literal["viewer", "analyst", "developer", "admin"]


class WorkspaceSettings(S4EModel):
    """Workspace settings (SLA days, risk weights, severity rules, retention)."""

    sla_days: dict[str, int] = Field(default_factory=dict)
    """Days to remediate per severity."""
    risk_weights: dict[str, Any] = Field(default_factory=dict)
    """Factors of the risk score."""
    severity_rules: list[dict[str, Any]] = Field(default_factory=list)
    """Ordered re-classification rules."""
    event_retention_days: Optional[int] = None
    """How long events are kept."""
    auto_scan_new_services: Optional[bool] = None
    """Scan services as they are discovered."""


class Workspace(S4EModel):
    """A workspace (tenant) with my role in it."""

    id: str
    """`wsp_` id."""
    name: str
    """Display name."""
    role: Optional[str] = None
    """My role: `viewer`, `analyst`, `developer` or `admin`."""
    settings: Optional[WorkspaceSettings] = None
    """Settings (detail view only)."""
    created_at: Optional[datetime] = None
    """Creation time."""
    updated_at: Optional[datetime] = None
    """Last change."""


class WorkspaceCreate(RequestModel):
    """Body of `POST /workspaces`."""

    name: str
    """1-128 characters."""


class WorkspaceUpdate(RequestModel):
    """Body of `PATCH /workspaces/{id}`; settings keys merge, `severity_rules` is replaced whole."""

    name: Optional[str] = None
    """New name."""
    settings: Optional[dict[str, Any]] = None
    """Settings to change (see api.md 2.2 and scanning.md 6.7-6.9)."""


class Member(S4EModel):
    """A member of a workspace."""

    user_id: str
    """`usr_` id."""
    email: str
    """Email."""
    name: str = ""
    """Display name."""
    role: str
    """`viewer`, `analyst`, `developer` or `admin`."""
    joined_at: Optional[datetime] = None
    """When they joined."""
    mfa_enabled: bool = False
    """TOTP is on."""


class Invitation(S4EModel):
    """A pending invitation to a workspace (7-day token)."""

    id: str
    """`inv_` id."""
    email: str
    """Invitee email."""
    role: str
    """Role on acceptance."""
    invited_by: Optional[str] = None
    """Inviting user."""
    created_at: Optional[datetime] = None
    """Creation time."""
    expires_at: Optional[datetime] = None
    """Token expiry."""
    token: Optional[str] = None
    """Acceptance token: only in the response that created the invitation."""


class MemberAdd(RequestModel):
    """Body of `POST /workspaces/{id}/members`."""

    email: str
    """Existing user is added; anyone else is invited."""
    role: Role
    """Role in this workspace."""


class MemberUpdate(RequestModel):
    """Body of `PATCH /workspaces/{id}/members/{user_id}`."""

    role: Role
    """New role (the last admin cannot be demoted)."""


class InvitationAccept(RequestModel):
    """Body of `POST /auth/invitations/accept`."""

    token: str
    """The invitation token (`s4e_inv_...`)."""
    name: str
    """Your display name."""
    password: str
    """Password of the new account (12-256 characters)."""


class AcceptedUser(S4EModel):
    """The account created by accepting an invitation."""

    id: str
    """`usr_` id."""
    email: str
    """Login email (the invited address)."""
    name: str
    """Display name."""


class AcceptedWorkspace(S4EModel):
    """The workspace joined by accepting an invitation."""

    id: str
    """`wsp_` id."""
    name: str
    """Display name."""
    role: str
    """The role the invitation granted."""


class InvitationAccepted(S4EModel):
    """Result of accepting an invitation: the new account and the workspace it joined."""

    user: AcceptedUser
    """The account created."""
    workspace: AcceptedWorkspace
    """The workspace joined."""
