"""Scan path dependencies: the scan named in the path (404 here, once) and the scan scopes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from s4e_platform.auth.dependencies import DbSession, apply_rate_limit, require
from s4e_platform.auth.principal import Principal
from s4e_platform.scan import service
from s4e_platform.scan.models import Scan

ReadScans = Annotated[Principal, Depends(require("read:scans"))]
WriteScans = Annotated[Principal, Depends(require("write:scans"))]
ScanId = Annotated[str, Path(description="Scan id (scn_...)", max_length=64)]
SCAN_CREATE_RATE = (10, 0)  # api.md 1.9: POST /scans 10/min (reruns share the bucket: they create scans too)


def scan_for_read(scan_id: ScanId, principal: ReadScans, session: DbSession) -> Scan:
    return service.get(session, principal, scan_id)


def scan_for_write(scan_id: ScanId, principal: WriteScans, session: DbSession) -> Scan:
    return service.get(session, principal, scan_id)


def scan_create_limit(request: Request, principal: WriteScans) -> None:
    apply_rate_limit(request, principal.rate_key() + ":scans", SCAN_CREATE_RATE)


ReadableScan = Annotated[Scan, Depends(scan_for_read)]
WritableScan = Annotated[Scan, Depends(scan_for_write)]
