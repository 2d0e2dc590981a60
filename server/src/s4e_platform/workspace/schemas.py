"""Workspace, settings, member and invitation shapes (api.md 2.2; settings per scanning.md 6.7-6.9)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, StrictBool, field_validator, model_validator

from s4e_platform.asset.schemas import clean_tags
from s4e_platform.auth.key_schemas import plain_name
from s4e_platform.kit.schemas import ReadModel, StrictModel, Timestamp
from s4e_platform.scan_profile.schemas import WorkspaceSkipWindow

Role = Literal["viewer", "analyst", "developer", "admin"]
Severity = Literal["critical", "high", "medium", "low", "info"]
Criticality = Literal["low", "medium", "high", "critical"]
Zone = Literal["external", "internal"]
_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
_WEIGHT = {"ge": 0, "le": 10}


def _not_null(value):
    if value is None:
        raise ValueError("may not be null; leave the field out to keep its value")
    return value


def check_email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 320 or not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value


# Settings ---------------------------------------------------------------------------------------------------

class SlaDaysUpdate(StrictModel):
    """Days to remediate per effective severity (info has no SLA)."""

    critical: int | None = Field(None, ge=1, le=3650)
    high: int | None = Field(None, ge=1, le=3650)
    medium: int | None = Field(None, ge=1, le=3650)
    low: int | None = Field(None, ge=1, le=3650)

    _nn = field_validator("critical", "high", "medium", "low", mode="before")(lambda cls, v: _not_null(v))


class CriticalityWeights(StrictModel):
    low: float | None = Field(None, **_WEIGHT)
    medium: float | None = Field(None, **_WEIGHT)
    high: float | None = Field(None, **_WEIGHT)
    critical: float | None = Field(None, **_WEIGHT)

    _nn = field_validator("low", "medium", "high", "critical", mode="before")(lambda cls, v: _not_null(v))


class ExposureWeights(StrictModel):
    external: float | None = Field(None, **_WEIGHT)
    internal: float | None = Field(None, **_WEIGHT)

    _nn = field_validator("external", "internal", mode="before")(lambda cls, v: _not_null(v))


class RiskWeightsUpdate(StrictModel):
    """Factors of the risk score (scanning.md 6.9)."""

    criticality: CriticalityWeights | None = None
    exposure: ExposureWeights | None = None
    epss_factor: float | None = Field(None, **_WEIGHT)
    kev_bonus: float | None = Field(None, ge=0, le=100)

    _nn = field_validator("criticality", "exposure", "epss_factor", "kev_bonus",
                          mode="before")(lambda cls, v: _not_null(v))


class WhenAsset(StrictModel):
    """Asset selectors; a rule matches when ANY selector given matches (no selector = every asset)."""

    criticality: list[Criticality] | None = Field(None, min_length=1, max_length=4)
    tags_any: list[str] | None = Field(None, min_length=1, max_length=50)
    tags_all: list[str] | None = Field(None, min_length=1, max_length=50)
    network_zone: list[Zone] | None = Field(None, min_length=1, max_length=2)

    _tags = field_validator("tags_any", "tags_all")(lambda cls, v: clean_tags(v))


class RuleAction(StrictModel):
    shift: int | None = Field(None, ge=-2, le=2, description="Move the severity up (+) or down (-)")
    set: Severity | None = Field(None, description="Set this severity")

    @model_validator(mode="after")
    def _exactly_one(self):
        if (self.shift is None) == (self.set is None):
            raise ValueError("action needs exactly one of shift or set")
        if self.shift == 0:
            raise ValueError("shift must be non-zero")
        return self


class SeverityRule(StrictModel):
    """One re-classification rule (scanning.md 6.8); ordered, first match wins."""

    id: str = Field(min_length=1, max_length=64, description="Rule id, named in severity_reason")
    enabled: StrictBool = True
    when_asset: WhenAsset = Field(default_factory=WhenAsset)
    scanners: list[str] | None = Field(None, min_length=1, max_length=100, description="AND filter: scanner ids")
    categories: list[str] | None = Field(None, min_length=1, max_length=100, description="AND filter")
    severities: list[Severity] | None = Field(None, min_length=1, max_length=5, description="AND filter")
    action: RuleAction

    @field_validator("id")
    @classmethod
    def _rule_id(cls, v: str) -> str:
        if not _RULE_ID.match(v):
            raise ValueError("rule id must match ^[a-z0-9][a-z0-9_.-]{0,63}$")
        return v

    @field_validator("scanners", "categories")
    @classmethod
    def _names(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and any(not isinstance(x, str) or not _RULE_ID.match(x) for x in v):
            raise ValueError("names must match ^[a-z0-9][a-z0-9_.-]{0,63}$")
        return v


class SettingsUpdate(StrictModel):
    """Only the keys sent change; nested objects merge, `severity_rules` is replaced whole."""

    sla_days: SlaDaysUpdate | None = None
    risk_weights: RiskWeightsUpdate | None = None
    severity_rules: list[SeverityRule] | None = Field(None, max_length=100)
    event_retention_days: int | None = Field(None, ge=1, le=3650)
    auto_scan_new_services: StrictBool | None = None
    max_running_scans: int | None = Field(None, ge=1, le=100, description="Scans running at once (scanning.md 1.1)")
    scan_skip_windows: list[WorkspaceSkipWindow] | None = Field(None, max_length=50, description="Replaced whole")

    _nn = field_validator("sla_days", "risk_weights", "severity_rules", "event_retention_days",
                          "auto_scan_new_services", "max_running_scans", "scan_skip_windows",
                          mode="before")(lambda cls, v: _not_null(v))


class SettingsRead(ReadModel):
    sla_days: dict[str, int]
    risk_weights: dict
    severity_rules: list[dict]
    event_retention_days: int
    auto_scan_new_services: bool
    max_running_scans: int = 10
    scan_skip_windows: list[dict] = []


# Workspaces -------------------------------------------------------------------------------------------------

class WorkspaceCreate(StrictModel):
    name: str = Field(min_length=1, max_length=128, description="Display name")

    _name = field_validator("name")(lambda cls, v: plain_name(v))


class WorkspaceUpdate(StrictModel):
    name: str | None = Field(None, min_length=1, max_length=128)
    settings: SettingsUpdate | None = None

    _nn = field_validator("name", "settings", mode="before")(lambda cls, v: _not_null(v))
    _name = field_validator("name")(lambda cls, v: plain_name(v))


class WorkspaceSummary(ReadModel):
    id: str
    name: str
    role: Role = Field(description="My role in it")
    created_at: Timestamp


class WorkspaceRead(WorkspaceSummary):
    settings: SettingsRead
    updated_at: Timestamp


# Members and invitations ------------------------------------------------------------------------------------

class MemberRead(ReadModel):
    user_id: str
    email: str
    name: str
    role: Role
    joined_at: Timestamp
    mfa_enabled: bool


class MemberAdd(StrictModel):
    email: str = Field(min_length=3, max_length=320, description="An existing user is added; else invited")
    role: Role = Field(description="Role in this workspace")

    _email = field_validator("email")(lambda cls, v: check_email(v))


class MemberUpdate(StrictModel):
    role: Role


class InvitationRead(ReadModel):
    id: str
    email: str
    role: Role
    invited_by: str | None
    created_at: Timestamp
    expires_at: Timestamp


class InvitationCreated(InvitationRead):
    token: str = Field(description="Give this to the invitee; shown only in this response")


class InvitationAccept(StrictModel):
    token: str = Field(min_length=1, max_length=256, description="The invitation token")
    name: str = Field(min_length=1, max_length=200, description="Your display name")
    password: str = Field(min_length=1, max_length=1024, description="12-256 characters")

    _name = field_validator("name")(lambda cls, v: plain_name(v))


class AcceptedUser(ReadModel):
    id: str
    email: str
    name: str


class AcceptedWorkspace(ReadModel):
    id: str
    name: str
    role: Role


class InvitationAccepted(ReadModel):
    user: AcceptedUser
    workspace: AcceptedWorkspace
