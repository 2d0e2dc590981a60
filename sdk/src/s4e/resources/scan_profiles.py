"""`client.scan_profiles`: scan profiles, their runs and schedule previews (api.md 2.4, scanning.md 3)."""

from __future__ import annotations

from typing import Any, Optional, Union

import httpx

from s4e._operations import operation
from s4e._transport import envelope
from s4e._types import NOT_GIVEN, NotGiven, given, path_segment, query
from s4e.models.scan_profile import (
    PostScanActionInput,
    ProfileRun,
    ProfileScopeInput,
    ScanProfile,
    ScanProfileCreate,
    ScanProfileUpdate,
    ScheduleInput,
    SchedulePreview,
)
from s4e.pagination import AsyncPage, SyncPage
from s4e.resources._base import AsyncResource, SyncResource, parse

Scope = Union[ProfileScopeInput, dict]
Schedule = Union[ScheduleInput, dict, None]
Actions = list[Union[PostScanActionInput, dict]]


def _path(profile_id: str, suffix: str = "") -> str:
    return f"/scan-profiles/{path_segment(profile_id, 'profile_id')}{suffix}"


def create_body(**fields: Any) -> dict[str, Any]:
    return ScanProfileCreate(**given(fields)).body()


def update_body(**fields: Any) -> dict[str, Any]:
    body = ScanProfileUpdate(**given(fields)).body()
    if not body:
        raise ValueError("update needs at least one field to change")
    return body


def _run(response: httpx.Response) -> ProfileRun:
    body = envelope(response)
    meta = body.get("meta") or {}
    return parse(ProfileRun, {"scans": body["data"], "skipped": meta.get("skipped") or [],
                              "in_scope": meta.get("in_scope", 0)}, response)


class ScanProfiles(SyncResource):
    """Scan profiles."""

    @operation("list_scan_profiles")
    def list(self, *, enabled: bool | NotGiven = NOT_GIVEN, search: str | NotGiven = NOT_GIVEN,
             sort_by: str | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[ScanProfile]:
        """List profiles, lazily across pages; `search` matches the name; `sort_by`: `created_at` (default),
        `name`, `next_run_at`, `last_run_at`."""
        params = query(enabled=enabled, search=search, sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page("/scan-profiles", ScanProfile, params, page)

    @operation("get_scan_profile")
    def get(self, profile_id: str) -> ScanProfile:
        """Get one profile."""
        return self._get(_path(profile_id), ScanProfile)

    @operation("create_scan_profile")
    def create(self, *, name: str, scan_type: str, scope: Scope, scanners: Optional[list[str]] | NotGiven = NOT_GIVEN,
               options: dict[str, Any] | NotGiven = NOT_GIVEN, priority: str | NotGiven = NOT_GIVEN,
               schedule: Schedule | NotGiven = NOT_GIVEN, post_scan_actions: Actions | NotGiven = NOT_GIVEN,
               description: str | NotGiven = NOT_GIVEN, enabled: bool | NotGiven = NOT_GIVEN,
               idempotency_key: Optional[str] = None) -> ScanProfile:
        """Create a profile; `schedule` (cron, timezone, until, skip_windows, on_skip) makes it run by itself."""
        body = create_body(name=name, scan_type=scan_type, scope=scope, scanners=scanners, options=options,
                           priority=priority, schedule=schedule, post_scan_actions=post_scan_actions,
                           description=description, enabled=enabled)
        return self._send("POST", "/scan-profiles", ScanProfile, json=body, idempotency_key=idempotency_key)

    @operation("update_scan_profile")
    def update(self, profile_id: str, *, name: str | NotGiven = NOT_GIVEN, scan_type: str | NotGiven = NOT_GIVEN,
               scope: Scope | NotGiven = NOT_GIVEN, scanners: Optional[list[str]] | NotGiven = NOT_GIVEN,
               options: dict[str, Any] | NotGiven = NOT_GIVEN, priority: str | NotGiven = NOT_GIVEN,
               schedule: Schedule | NotGiven = NOT_GIVEN, post_scan_actions: Actions | NotGiven = NOT_GIVEN,
               description: str | NotGiven = NOT_GIVEN, enabled: bool | NotGiven = NOT_GIVEN) -> ScanProfile:
        """Change a profile: each key given replaces the stored one (`schedule=None` unschedules)."""
        body = update_body(name=name, scan_type=scan_type, scope=scope, scanners=scanners, options=options,
                           priority=priority, schedule=schedule, post_scan_actions=post_scan_actions,
                           description=description, enabled=enabled)
        return self._send("PATCH", _path(profile_id), ScanProfile, json=body)

    @operation("delete_scan_profile")
    def delete(self, profile_id: str) -> None:
        """Delete a profile (its scans remain)."""
        self._send("DELETE", _path(profile_id), None)

    @operation("run_scan_profile")
    def run(self, profile_id: str, *, idempotency_key: Optional[str] = None) -> ProfileRun:
        """Start the profile now: one scan per in-scope asset; `skipped` lists the assets left out."""
        return _run(self._transport.request("POST", _path(profile_id, "/run"), idempotency_key=idempotency_key))

    @operation("preview_scan_profile_schedule")
    def schedule_preview(self, profile_id: str, *, count: int | NotGiven = NOT_GIVEN) -> SchedulePreview:
        """The next `count` (1-100, default 10) starts after skip windows, in UTC and the profile's zone."""
        return self._get(_path(profile_id, "/schedule-preview"), SchedulePreview, query(count=count))


class AsyncScanProfiles(AsyncResource):
    """Scan profiles (asyncio)."""

    @operation("list_scan_profiles")
    def list(self, *, enabled: bool | NotGiven = NOT_GIVEN, search: str | NotGiven = NOT_GIVEN,
             sort_by: str | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[ScanProfile]:
        """List profiles, lazily across pages (`async for`)."""
        params = query(enabled=enabled, search=search, sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page("/scan-profiles", ScanProfile, params, page)

    @operation("get_scan_profile")
    async def get(self, profile_id: str) -> ScanProfile:
        """Get one profile."""
        return await self._get(_path(profile_id), ScanProfile)

    @operation("create_scan_profile")
    async def create(self, *, name: str, scan_type: str, scope: Scope,
                     scanners: Optional[list[str]] | NotGiven = NOT_GIVEN,
                     options: dict[str, Any] | NotGiven = NOT_GIVEN, priority: str | NotGiven = NOT_GIVEN,
                     schedule: Schedule | NotGiven = NOT_GIVEN, post_scan_actions: Actions | NotGiven = NOT_GIVEN,
                     description: str | NotGiven = NOT_GIVEN, enabled: bool | NotGiven = NOT_GIVEN,
                     idempotency_key: Optional[str] = None) -> ScanProfile:
        """Create a profile."""
        body = create_body(name=name, scan_type=scan_type, scope=scope, scanners=scanners, options=options,
                           priority=priority, schedule=schedule, post_scan_actions=post_scan_actions,
                           description=description, enabled=enabled)
        return await self._send("POST", "/scan-profiles", ScanProfile, json=body, idempotency_key=idempotency_key)

    @operation("update_scan_profile")
    async def update(self, profile_id: str, *, name: str | NotGiven = NOT_GIVEN,
                     scan_type: str | NotGiven = NOT_GIVEN, scope: Scope | NotGiven = NOT_GIVEN,
                     scanners: Optional[list[str]] | NotGiven = NOT_GIVEN,
                     options: dict[str, Any] | NotGiven = NOT_GIVEN, priority: str | NotGiven = NOT_GIVEN,
                     schedule: Schedule | NotGiven = NOT_GIVEN, post_scan_actions: Actions | NotGiven = NOT_GIVEN,
                     description: str | NotGiven = NOT_GIVEN, enabled: bool | NotGiven = NOT_GIVEN) -> ScanProfile:
        """Change a profile (`schedule=None` unschedules)."""
        body = update_body(name=name, scan_type=scan_type, scope=scope, scanners=scanners, options=options,
                           priority=priority, schedule=schedule, post_scan_actions=post_scan_actions,
                           description=description, enabled=enabled)
        return await self._send("PATCH", _path(profile_id), ScanProfile, json=body)

    @operation("delete_scan_profile")
    async def delete(self, profile_id: str) -> None:
        """Delete a profile (its scans remain)."""
        await self._send("DELETE", _path(profile_id), None)

    @operation("run_scan_profile")
    async def run(self, profile_id: str, *, idempotency_key: Optional[str] = None) -> ProfileRun:
        """Start the profile now: one scan per in-scope asset."""
        return _run(await self._transport.request("POST", _path(profile_id, "/run"),
                                                  idempotency_key=idempotency_key))

    @operation("preview_scan_profile_schedule")
    async def schedule_preview(self, profile_id: str, *, count: int | NotGiven = NOT_GIVEN) -> SchedulePreview:
        """The next `count` starts after skip windows."""
        return await self._get(_path(profile_id, "/schedule-preview"), SchedulePreview, query(count=count))
