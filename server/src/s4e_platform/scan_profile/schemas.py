"""Scan profile request and response shapes (scanning.md 3, api.md 2.4)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, StrictBool, field_validator, model_validator

from s4e_platform.asset.schemas import AssetType, clean_tags
from s4e_platform.kit.schemas import ReadModel, StrictModel, Timestamp
from s4e_platform.scan_profile import cron

ScanType = Literal["full", "quick", "custom", "port", "ssl", "dns", "web", "crawl", "api_discovery"]
Priority = Literal["low", "normal", "high"]
Severity = Literal["critical", "high", "medium", "low", "info"]
_ACTION_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@/-]{0,127}$")
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_SCANNER = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")


def _not_null(value):
    if value is None:
        raise ValueError("may not be null; leave the field out to keep its value")
    return value


def _cron(value: str) -> str:
    try:
        return cron.check_cron(value)
    except cron.InvalidSchedule as exc:
        raise ValueError(str(exc)) from None


def _zone(value: str) -> str:
    try:
        cron.zone(value)
    except cron.InvalidSchedule as exc:
        raise ValueError(str(exc)) from None
    return value


def _clean_name(v: str | None) -> str | None:
    if v is None:
        return v
    v = v.strip()
    if not v or any(ord(ch) < 32 or ord(ch) == 127 for ch in v):
        raise ValueError("name must be non-empty printable text")
    return v


def _clean_scanners(v: list[str] | None) -> list[str] | None:
    if v is None:
        return v
    if any(not _SCANNER.match(s) for s in v):
        raise ValueError("scanner ids are lower-case names such as port_scan")
    if len(set(v)) != len(v):
        raise ValueError("scanner ids must be unique")
    return v


# Scope ------------------------------------------------------------------------------------------------------

class ProfileScope(StrictModel):
    """Union of `asset_ids` and the assets matching every selector given (`tags` any-of, `asset_types`)."""

    asset_ids: list[str] = Field(default_factory=list, max_length=1000, description="ast_ ids always in scope")
    tags: list[str] = Field(default_factory=list, max_length=50, description="Assets with any of these tags")
    asset_types: list[AssetType] = Field(default_factory=list, max_length=4, description="Assets of these types")
    include_children: StrictBool = Field(False, description="Also the child domains of in-scope domains")
    exclude_asset_ids: list[str] = Field(default_factory=list, max_length=1000, description="Never these assets")
    exclude_tags: list[str] = Field(default_factory=list, max_length=50, description="Never assets with these tags")

    _tags = field_validator("tags", "exclude_tags")(lambda cls, v: clean_tags(v))
    _nn = field_validator("asset_ids", "tags", "asset_types", "include_children", "exclude_asset_ids",
                          "exclude_tags", mode="before")(lambda cls, v: _not_null(v))

    @model_validator(mode="after")
    def _something(self):
        if not (self.asset_ids or self.tags or self.asset_types):
            raise ValueError("scope needs at least one of asset_ids, tags or asset_types")
        return self


# Schedule ---------------------------------------------------------------------------------------------------

class SkipWindow(StrictModel):
    """No scan of the profile may start within `duration_minutes` after a match of `cron` (profile time zone)."""

    cron: str = Field(max_length=256, description="5-field cron: when a window opens")
    duration_minutes: int = Field(ge=1, le=10080, description="Window length, 1 minute to 7 days")

    _cron = field_validator("cron")(lambda cls, v: _cron(v))


class Schedule(StrictModel):
    cron: str = Field(max_length=256, description="Standard 5-field cron, evaluated in `timezone`")
    timezone: str = Field("UTC", max_length=64, description="IANA time zone name")
    until: datetime | None = Field(None, description="No fire after this instant")
    skip_windows: list[SkipWindow] = Field(default_factory=list, max_length=20)
    on_skip: Literal["skip", "defer"] = Field("skip", description="defer: start once when the window ends")

    _cron = field_validator("cron")(lambda cls, v: _cron(v))
    _tz = field_validator("timezone")(lambda cls, v: _zone(v))
    _nn = field_validator("timezone", "skip_windows", "on_skip", mode="before")(lambda cls, v: _not_null(v))


class WorkspaceSkipWindow(StrictModel):
    """Workspace setting `scan_skip_windows[]`: gates scheduled starts of every profile (scope `all`) or of one
    asset (`scope` = its ast_ id)."""

    cron: str = Field(max_length=256, description="5-field cron: when a window opens")
    duration_minutes: int = Field(ge=1, le=10080)
    scope: str = Field("all", max_length=64, description="`all` or an ast_ id")
    until: datetime | None = Field(None, description="Windows opening after this instant no longer apply")
    timezone: str = Field("UTC", max_length=64, description="IANA zone the cron is evaluated in")

    _cron = field_validator("cron")(lambda cls, v: _cron(v))
    _tz = field_validator("timezone")(lambda cls, v: _zone(v))

    @field_validator("scope")
    @classmethod
    def _scope(cls, v: str) -> str:
        from s4e_platform.kit.ids import parse_id

        if v == "all":
            return v
        canon = parse_id(v, "ast")
        if canon is None:
            raise ValueError("scope must be `all` or an asset id (ast_...)")
        return canon


# Post-scan actions ------------------------------------------------------------------------------------------

class ActionConditions(StrictModel):
    min_severity: Severity | None = Field(None, description="Only findings at or above this severity")
    categories: list[str] | None = Field(None, min_length=1, max_length=50, description="Only these categories")
    kev: StrictBool | None = Field(None, description="true: only findings in CISA KEV")

    @field_validator("categories")
    @classmethod
    def _categories(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and any(not _CATEGORY.match(c) for c in v):
            raise ValueError("categories must match ^[a-z0-9][a-z0-9_.-]{0,63}$")
        return v


class PostScanAction(StrictModel):
    on: Literal["completed", "failed", "new_findings"] = Field(description="When the action fires")
    conditions: ActionConditions = Field(default_factory=ActionConditions)
    playbook_id: str | None = Field(None, max_length=64, description="pbk_ id of the playbook to run")
    action_ref: str | None = Field(None, max_length=128, description="act_ id, action name, name@version")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Passed to the action or playbook")

    @field_validator("action_ref")
    @classmethod
    def _ref(cls, v: str | None) -> str | None:
        if v is not None and not _ACTION_REF.match(v):
            raise ValueError("action_ref must be an act_ id, an action name or name@version")
        return v

    @field_validator("playbook_id")
    @classmethod
    def _playbook(cls, v: str | None) -> str | None:
        from s4e_platform.kit.ids import parse_id

        if v is None:
            return v
        canon = parse_id(v, "pbk")
        if canon is None:
            raise ValueError("playbook_id must be a playbook id (pbk_...)")
        return canon

    @model_validator(mode="after")
    def _one_target(self):
        if (self.playbook_id is None) == (self.action_ref is None):
            raise ValueError("give exactly one of playbook_id or action_ref")
        return self


# Profiles ---------------------------------------------------------------------------------------------------

class ProfileCreate(StrictModel):
    name: str = Field(min_length=1, max_length=128, description="Unique in the workspace")
    description: str = Field("", max_length=1024)
    enabled: StrictBool = True
    scope: ProfileScope
    scan_type: ScanType = Field(description="As for scans (scanning.md 1.2)")
    scanners: list[str] | None = Field(None, max_length=50, description="custom scans: scanner ids")
    options: dict[str, Any] = Field(default_factory=dict, description="Scan options, validated per scanner")
    priority: Priority = "normal"
    schedule: Schedule | None = Field(None, description="null: run only on demand")
    post_scan_actions: list[PostScanAction] = Field(default_factory=list, max_length=20)

    _nn = field_validator("description", "enabled", "options", "priority", "post_scan_actions",
                          mode="before")(lambda cls, v: _not_null(v))

    _name = field_validator("name")(lambda cls, v: _clean_name(v))
    _scanners = field_validator("scanners")(lambda cls, v: _clean_scanners(v))


class ProfileUpdate(StrictModel):
    """Merge of top-level keys: a key sent replaces the stored value (`schedule: null` unschedules)."""

    name: str | None = Field(None, min_length=1, max_length=128)
    description: str | None = Field(None, max_length=1024)
    enabled: StrictBool | None = None
    scope: ProfileScope | None = None
    scan_type: ScanType | None = None
    scanners: list[str] | None = Field(None, max_length=50, description="null: derived from scan_type")
    options: dict[str, Any] | None = None
    priority: Priority | None = None
    schedule: Schedule | None = None
    post_scan_actions: list[PostScanAction] | None = Field(None, max_length=20)

    _nn = field_validator("name", "description", "enabled", "scope", "scan_type", "options", "priority",
                          "post_scan_actions", mode="before")(lambda cls, v: _not_null(v))
    _name = field_validator("name")(lambda cls, v: _clean_name(v))
    _scanners = field_validator("scanners")(lambda cls, v: _clean_scanners(v))


class ScheduleRead(ReadModel):
    cron: str
    timezone: str
    until: Timestamp | None = None
    skip_windows: list[dict]
    on_skip: str


class ScopeRead(ReadModel):
    asset_ids: list[str] = []
    tags: list[str] = []
    asset_types: list[str] = []
    include_children: bool = False
    exclude_asset_ids: list[str] = []
    exclude_tags: list[str] = []


class ProfileRead(ReadModel):
    id: str
    name: str
    description: str
    enabled: bool
    scope: ScopeRead
    scan_type: str
    scanners: list[str] | None
    options: dict
    priority: str
    schedule: ScheduleRead | None
    post_scan_actions: list[dict]
    next_run_at: Timestamp | None
    last_run_at: Timestamp | None
    created_by: str | None
    created_at: Timestamp
    updated_at: Timestamp


class PreviewEntry(ReadModel):
    at_utc: Timestamp = Field(description="When the scans start (UTC)")
    at_local: str = Field(description="The same instant in the profile's time zone, with its offset")
    skipped: bool = Field(False, description="True: inside a skip window with on_skip=skip, nothing starts")
    scheduled_at_utc: Timestamp = Field(description="The cron time (differs from at_utc when deferred)")
    deferred: bool = Field(False, description="True: moved to the end of a skip window (on_skip=defer)")
    window: dict | None = Field(None, description="The skip window that applied")


class SkippedAsset(ReadModel):
    asset_id: str
    reason: str
    message: str | None = None
