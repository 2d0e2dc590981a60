"""Scan profile endpoints (api.md 2.4): CRUD, run now, schedule preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response
from pydantic import BaseModel, Field

from s4e_platform.auth.dependencies import DbSession
from s4e_platform.kit.pagination import PageParams, order, page_params, paginate
from s4e_platform.kit.router import api_router, conflict
from s4e_platform.kit.schemas import Envelope, ListEnvelope
from s4e_platform.scan import service as scan_service
from s4e_platform.scan.dependencies import scan_create_limit
from s4e_platform.scan.schemas import ScanRead
from s4e_platform.scan_profile import service
from s4e_platform.scan_profile.dependencies import ReadableProfile, ReadScans, WritableProfile, WriteScans
from s4e_platform.scan_profile.models import ScanProfile
from s4e_platform.scan_profile.repository import SORTS
from s4e_platform.scan_profile.schemas import PreviewEntry, ProfileCreate, ProfileRead, ProfileUpdate, SkippedAsset

router = api_router(tags=["scan-profiles"])


class RunMeta(BaseModel):
    in_scope: int = Field(description="Assets the scope matched")
    skipped: list[SkippedAsset] = Field(description="Assets left out, with the reason")


class RunEnvelope(BaseModel):
    data: list[ScanRead]
    meta: RunMeta


class SchedulePreview(BaseModel):
    enabled: bool = Field(description="False: the profile is paused; none of these starts happen until enabled")
    timezone: str = Field(description="The profile's time zone")
    on_skip: str = Field(description="What a skip window does to a start: skip or defer")
    entries: list[PreviewEntry] = Field(description="Upcoming starts in time order")


@router.get("/scan-profiles", response_model=ListEnvelope[ProfileRead], operation_id="list_scan_profiles")
def list_scan_profiles(
    principal: ReadScans,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    enabled: Annotated[str | None, Query(pattern="^(true|false)$", description="true or false")] = None,
    search: Annotated[str | None, Query(max_length=256, description="Case-insensitive match on the name")] = None,
):
    """List scan profiles."""
    stmt = service.repo(session, principal).filtered(
        enabled=None if enabled is None else enabled == "true", search=search)
    rows, meta = paginate(session, order(stmt, paging, SORTS, "created_at", ScanProfile.id), paging)
    return {"data": [service.to_read(p) for p in rows], "meta": meta}


@router.post("/scan-profiles", response_model=Envelope[ProfileRead], status_code=201,
             operation_id="create_scan_profile", responses=conflict("A profile with this name exists"))
def create_scan_profile(body: ProfileCreate, principal: WriteScans, session: DbSession, response: Response):
    """Create a scan profile."""
    profile = service.create(session, principal, body)
    response.headers["Location"] = f"/api/v1/scan-profiles/{profile.id}"
    return {"data": service.to_read(profile), "meta": {}}


@router.get("/scan-profiles/{profile_id}", response_model=Envelope[ProfileRead], operation_id="get_scan_profile")
def get_scan_profile(profile: ReadableProfile):
    """Get one scan profile."""
    return {"data": service.to_read(profile), "meta": {}}


@router.patch("/scan-profiles/{profile_id}", response_model=Envelope[ProfileRead],
              operation_id="update_scan_profile", responses=conflict("A profile with this name exists"))
def update_scan_profile(body: ProfileUpdate, profile: WritableProfile, principal: WriteScans, session: DbSession):
    """Update a scan profile (top-level keys sent replace the stored ones)."""
    service.update(session, principal, profile, body)
    return {"data": service.to_read(profile), "meta": {}}


@router.delete("/scan-profiles/{profile_id}", status_code=204, operation_id="delete_scan_profile")
def delete_scan_profile(profile: WritableProfile, principal: WriteScans, session: DbSession):
    """Delete a scan profile (its scans stay, without profile_id)."""
    service.delete_profile(session, principal, profile)
    return Response(status_code=204)


@router.post("/scan-profiles/{profile_id}/run", response_model=RunEnvelope, status_code=201,
             operation_id="run_scan_profile", dependencies=[Depends(scan_create_limit)])
def run_scan_profile(profile: WritableProfile, principal: WriteScans, session: DbSession):
    """Start the profile now: one scan per in-scope asset; skipped assets are listed in meta."""
    run = service.run_now(session, principal, profile)
    return {"data": scan_service.reads(session, principal, list(run)),
            "meta": {"in_scope": run.in_scope, "skipped": run.skipped}}


@router.get("/scan-profiles/{profile_id}/schedule-preview", response_model=Envelope[SchedulePreview],
            operation_id="preview_scan_profile_schedule")
def preview_scan_profile_schedule(
    profile: ReadableProfile,
    session: DbSession,
    count: Annotated[int, Query(ge=1, le=100, description="How many starts to list")] = 10,
):
    """Next start times after skip windows, in UTC and the profile's time zone."""
    entries = service.schedule_preview(session, profile, count=count)
    schedule = profile.schedule or {}
    return {"data": {"enabled": profile.enabled, "timezone": schedule.get("timezone") or "UTC",
                     "on_skip": schedule.get("on_skip") or "skip", "entries": entries}, "meta": {}}
