"""Scan profiles: scope, scan settings, schedule with skip windows, post-scan actions (api.md 2.4, scanning.md 3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from pydantic import Field

from s4e.models._base import RequestModel, S4EModel
from s4e.models.scan import Scan


class ProfileScope(S4EModel):
    """Union of `asset_ids` and the assets matching every selector given, minus the exclusions."""

    asset_ids: list[str] = Field(default_factory=list)
    """Assets always in scope."""
    tags: list[str] = Field(default_factory=list)
    """Assets with any of these tags."""
    asset_types: list[str] = Field(default_factory=list)
    """Assets of these types (`domain`, `ip`, `network`, `url`)."""
    include_children: bool = False
    """Also the child domains (discovered subdomains) of in-scope domains."""
    exclude_asset_ids: list[str] = Field(default_factory=list)
    """Never these assets."""
    exclude_tags: list[str] = Field(default_factory=list)
    """Never assets with any of these tags."""


class SkipWindow(S4EModel):
    """No scheduled start within `duration_minutes` after a match of `cron`."""

    cron: str
    """5-field cron: when the window opens (profile time zone)."""
    duration_minutes: int
    """Window length in minutes (1-10080)."""


class ProfileSchedule(S4EModel):
    """When a profile runs by itself."""

    cron: str
    """Standard 5-field cron."""
    timezone: str = "UTC"
    """IANA zone the cron is evaluated in."""
    until: Optional[datetime] = None
    """No fire after this instant."""
    skip_windows: list[SkipWindow] = Field(default_factory=list)
    """Windows in which no scan may start."""
    on_skip: str = "skip"
    """`skip` or `defer` (start once when the window ends)."""


class ScanProfile(S4EModel):
    """A scan profile (`prf_`)."""

    id: str
    """`prf_` id."""
    name: str
    """Unique in the workspace."""
    description: str = ""
    """Free text."""
    enabled: bool = True
    """False pauses the schedule."""
    scope: ProfileScope = Field(default_factory=ProfileScope)
    """Which assets a run scans."""
    scan_type: str
    """`full`, `quick`, `custom`, `port`, `ssl`, `dns`, `web`, `crawl` or `api_discovery`."""
    scanners: Optional[list[str]] = None
    """Scanner ids of a `custom` profile."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Scan options."""
    priority: str = "normal"
    """`low`, `normal` or `high`."""
    schedule: Optional[ProfileSchedule] = None
    """Null: runs only on demand."""
    post_scan_actions: list[dict[str, Any]] = Field(default_factory=list)
    """`{on, conditions, playbook_id | action_ref, parameters}` evaluated when a scan ends."""
    next_run_at: Optional[datetime] = None
    """Next scheduled time (UTC)."""
    last_run_at: Optional[datetime] = None
    """Last time scans were started."""
    created_by: Optional[str] = None
    """`usr_` id of the creator."""
    created_at: Optional[datetime] = None
    """Creation time."""
    updated_at: Optional[datetime] = None
    """Last change."""


class SkippedAsset(S4EModel):
    """An in-scope asset a run left out."""

    asset_id: str
    """`ast_` id."""
    reason: str
    """`already_running`, `asset_not_verified`, `skip_window`, `no_applicable_scanner`, ..."""
    message: Optional[str] = None
    """Explanation."""


class ProfileRun(S4EModel):
    """Outcome of `POST /scan-profiles/{id}/run`."""

    scans: list[Scan] = Field(default_factory=list)
    """The scans started, one per asset."""
    skipped: list[SkippedAsset] = Field(default_factory=list)
    """Assets left out, with the reason."""
    in_scope: int = 0
    """Assets the scope matched."""


class SchedulePreviewEntry(S4EModel):
    """One upcoming start."""

    at_utc: datetime
    """When scans start (UTC)."""
    at_local: str
    """The same instant in the profile's time zone, with its offset."""
    skipped: bool = False
    """Inside a skip window with `on_skip: skip`: nothing starts."""
    scheduled_at_utc: Optional[datetime] = None
    """The cron time (earlier than `at_utc` when deferred)."""
    deferred: bool = False
    """Moved to the end of a skip window (`on_skip: defer`)."""
    window: Optional[dict[str, Any]] = None
    """The skip window that applied."""


class SchedulePreview(S4EModel):
    """Upcoming starts of a profile."""

    entries: list[SchedulePreviewEntry] = Field(default_factory=list)
    """In time order."""
    timezone: str = "UTC"
    """The profile's time zone."""
    on_skip: str = "skip"
    """What a skip window does to a start."""
    enabled: bool = True
    """False: the profile is paused and none of these will fire until it is enabled."""


class ProfileScopeInput(RequestModel):
    """Scope of a profile create or update."""

    asset_ids: Optional[list[str]] = None
    """Assets always in scope."""
    tags: Optional[list[str]] = None
    """Assets with any of these tags."""
    asset_types: Optional[list[str]] = None
    """Assets of these types."""
    include_children: Optional[bool] = None
    """Also child domains of in-scope domains."""
    exclude_asset_ids: Optional[list[str]] = None
    """Never these assets."""
    exclude_tags: Optional[list[str]] = None
    """Never assets with these tags."""


class SkipWindowInput(RequestModel):
    """A skip window."""

    cron: str
    """5-field cron: when the window opens."""
    duration_minutes: int
    """1-10080."""


class ScheduleInput(RequestModel):
    """Schedule of a profile create or update."""

    cron: str
    """Standard 5-field cron."""
    timezone: Optional[str] = None
    """IANA zone (default UTC)."""
    until: Optional[datetime] = None
    """No fire after this instant."""
    skip_windows: Optional[list[SkipWindowInput]] = None
    """Windows in which no scan may start."""
    on_skip: Optional[str] = None
    """`skip` (default) or `defer`."""


class ActionConditions(RequestModel):
    """Which new findings a `new_findings` action needs."""

    min_severity: Optional[str] = None
    """Lowest severity."""
    categories: Optional[list[str]] = None
    """Finding categories."""
    kev: Optional[bool] = None
    """true: only CISA KEV findings."""


class PostScanActionInput(RequestModel):
    """A post-scan action: exactly one of `playbook_id` or `action_ref`."""

    on: str
    """`completed`, `failed` or `new_findings`."""
    conditions: Optional[ActionConditions] = None
    """Finding conditions (new_findings)."""
    playbook_id: Optional[str] = None
    """`pbk_` id."""
    action_ref: Optional[str] = None
    """Action id, name or name@version."""
    parameters: Optional[dict[str, Any]] = None
    """Passed to the action or playbook."""


class ScanProfileCreate(RequestModel):
    """Body of `POST /scan-profiles`."""

    name: str
    """1-128 characters, unique in the workspace."""
    scan_type: str
    """Scan type."""
    scope: ProfileScopeInput
    """Which assets a run scans."""
    description: Optional[str] = None
    """Free text."""
    enabled: Optional[bool] = None
    """Default true."""
    scanners: Optional[list[str]] = None
    """custom profiles: scanner ids."""
    options: Optional[dict[str, Any]] = None
    """Scan options."""
    priority: Optional[str] = None
    """`low`, `normal` (default) or `high`."""
    schedule: Optional[ScheduleInput] = None
    """Null: on demand only."""
    post_scan_actions: Optional[list[PostScanActionInput]] = None
    """Actions when a scan ends."""


class ScanProfileUpdate(RequestModel):
    """Body of `PATCH /scan-profiles/{id}`: top-level keys set replace the stored ones (`schedule=None`
    unschedules, `scanners=None` derives them from the scan type)."""

    name: Optional[str] = None
    """New name."""
    description: Optional[str] = None
    """New description."""
    enabled: Optional[bool] = None
    """Pause or resume the schedule."""
    scope: Optional[ProfileScopeInput] = None
    """New scope."""
    scan_type: Optional[str] = None
    """New scan type."""
    scanners: Optional[list[str]] = None
    """New scanners."""
    options: Optional[dict[str, Any]] = None
    """New options."""
    priority: Optional[str] = None
    """New priority."""
    schedule: Optional[ScheduleInput] = None
    """New schedule, or None to unschedule."""
    post_scan_actions: Optional[list[PostScanActionInput]] = None
    """New actions."""
