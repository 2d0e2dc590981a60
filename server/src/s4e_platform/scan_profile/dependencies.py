"""Scan profile path dependencies: the profile named in the path (404 here, once) and the scan scopes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from s4e_platform.auth.dependencies import DbSession, require
from s4e_platform.auth.principal import Principal
from s4e_platform.scan_profile import service
from s4e_platform.scan_profile.models import ScanProfile

ReadScans = Annotated[Principal, Depends(require("read:scans"))]
WriteScans = Annotated[Principal, Depends(require("write:scans"))]
ProfileId = Annotated[str, Path(description="Scan profile id (prf_...)", max_length=64)]


def profile_for_read(profile_id: ProfileId, principal: ReadScans, session: DbSession) -> ScanProfile:
    return service.get(session, principal, profile_id)


def profile_for_write(profile_id: ProfileId, principal: WriteScans, session: DbSession) -> ScanProfile:
    return service.get(session, principal, profile_id)


ReadableProfile = Annotated[ScanProfile, Depends(profile_for_read)]
WritableProfile = Annotated[ScanProfile, Depends(profile_for_write)]
