"""Scan endpoints (api.md 2.4): create, list, get, status, cancel, rerun, tasks, output."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Response
from fastapi.responses import StreamingResponse

from s4e_platform.auth.dependencies import DbSession
from s4e_platform.kit.ids import parse_id
from s4e_platform.kit.pagination import PageParams, csv_values, order, page_params, paginate
from s4e_platform.kit.router import STANDARD_ERRORS, api_router, conflict
from s4e_platform.kit.schemas import Envelope, ListEnvelope
from s4e_platform.scan import output, service
from s4e_platform.scan.dependencies import ReadableScan, ReadScans, WritableScan, WriteScans, scan_create_limit
from s4e_platform.scan.models import SCAN_STATUSES, SCAN_TYPES, TASK_STATUSES, Scan, ScanTask
from s4e_platform.scan.repository import SORTS, TASK_SORTS
from s4e_platform.scan.schemas import ScanCreate, ScanRead, ScanStatusRead, ScanTaskRead

router = api_router(tags=["scans"])


def _ids(value: str | None, prefix: str) -> list[str] | None:
    """A comma list of ids; malformed ones match nothing (like unknown ones)."""
    items = csv_values(value)
    if items is None:
        return None
    return [canon for canon in (parse_id(v, prefix) for v in items) if canon]


def _read(session, principal, scan: Scan) -> dict:
    return {"data": service.reads(session, principal, [scan])[0], "meta": {}}


@router.post("/scans", response_model=Envelope[ScanRead], status_code=201, operation_id="create_scan",
             dependencies=[Depends(scan_create_limit)])
def create_scan(body: ScanCreate, principal: WriteScans, session: DbSession, response: Response):
    """Create a scan of one asset."""
    scan = service.create_for(session, principal, body)
    response.headers["Location"] = f"/api/v1/scans/{scan.id}"
    return _read(session, principal, scan)


@router.get("/scans", response_model=ListEnvelope[ScanRead], operation_id="list_scans")
def list_scans(
    principal: ReadScans,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    status: Annotated[str | None, Query(description="Comma list of statuses")] = None,
    asset_id: Annotated[str | None, Query(max_length=4096, description="Comma list of asset ids")] = None,
    scan_type: Annotated[str | None, Query(description="Comma list of scan types")] = None,
    profile_id: Annotated[str | None, Query(max_length=4096, description="Comma list of profile ids")] = None,
    priority: Annotated[str | None, Query(description="Comma list: low, normal, high")] = None,
    from_: Annotated[datetime | None, Query(alias="from", description="created_at >= (inclusive)")] = None,
    to: Annotated[datetime | None, Query(description="created_at < (exclusive)")] = None,
):
    """List scans."""
    stmt = service.repo(session, principal).filtered(
        statuses=csv_values(status, set(SCAN_STATUSES), "status"), asset_ids=_ids(asset_id, "ast"),
        scan_types=csv_values(scan_type, set(SCAN_TYPES), "scan_type"), profile_ids=_ids(profile_id, "prf"),
        priorities=csv_values(priority, {"low", "normal", "high"}, "priority"), start=from_, end=to)
    stmt = order(stmt, paging, SORTS, "created_at", Scan.id)
    rows, meta = paginate(session, stmt, paging)
    return {"data": service.reads(session, principal, rows), "meta": meta}


@router.get("/scans/{scan_id}", response_model=Envelope[ScanRead], operation_id="get_scan")
def get_scan(scan: ReadableScan, principal: ReadScans, session: DbSession):
    """Get one scan."""
    return _read(session, principal, scan)


@router.get("/scans/{scan_id}/status", response_model=Envelope[ScanStatusRead], operation_id="get_scan_status")
def get_scan_status(scan: ReadableScan, principal: ReadScans):
    """Status, progress and phase of a scan (for polling)."""
    del principal
    return {"data": service.status_of(scan), "meta": {}}


@router.post("/scans/{scan_id}/cancel", response_model=Envelope[ScanRead], status_code=202,
             operation_id="cancel_scan", responses=conflict("The scan has already finished (invalid_state)"))
def cancel_scan(scan: WritableScan, principal: WriteScans, session: DbSession):
    """Cancel a scan; running tasks stop at their next checkpoint."""
    service.cancel(session, scan, actor=principal.actor())
    return _read(session, principal, scan)


@router.post("/scans/{scan_id}/rerun", response_model=Envelope[ScanRead], status_code=201,
             operation_id="rerun_scan", dependencies=[Depends(scan_create_limit)])
def rerun_scan(scan: WritableScan, principal: WriteScans, session: DbSession, response: Response):
    """Start a new scan with the same asset, type, scanners, options and priority."""
    new = service.rerun(session, principal, scan)
    response.headers["Location"] = f"/api/v1/scans/{new.id}"
    return _read(session, principal, new)


@router.get("/scans/{scan_id}/tasks", response_model=ListEnvelope[ScanTaskRead], operation_id="list_scan_tasks")
def list_scan_tasks(
    scan: ReadableScan,
    principal: ReadScans,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    status: Annotated[str | None, Query(description="Comma list of task statuses")] = None,
    scanner: Annotated[str | None, Query(max_length=1024, description="Comma list of scanner ids")] = None,
):
    """List a scan's tasks (scanner x target)."""
    stmt = service.repo(session, principal).tasks(
        scan.id, statuses=csv_values(status, set(TASK_STATUSES), "status"), scanners=csv_values(scanner))
    stmt = order(stmt, paging, TASK_SORTS, "created_at", ScanTask.id)
    rows, meta = paginate(session, stmt, paging)
    return {"data": rows, "meta": meta}


# Errors are JSON envelopes although the success type is JSON Lines, so they are spelled out here (an error
# `model` would be documented under the route's media type).
_JSON_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": spec["description"],
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}
    for code, spec in STANDARD_ERRORS.items()}
_OUTPUT_RESPONSES: dict[int | str, dict[str, Any]] = {**_JSON_ERRORS, 200: {
    "description": "JSON Lines, one object per line, tasks in creation order: scanners' JSON lines (template "
                   "engine lines are nuclei-compatible) with `task_id` and `scanner` added, and text lines as "
                   "`{task_id, scanner, target, output}`.",
    "content": {"application/x-ndjson": {"schema": {"type": "string"}, "example":
                '{"task_id":"tsk_01hv...","scanner":"port_scan","target":"203.0.113.7","output":"22/tcp open ssh"}\n'}},
}}


@router.get("/scans/{scan_id}/output", response_class=StreamingResponse, response_model=None,
            operation_id="get_scan_output", responses=_OUTPUT_RESPONSES)
def get_scan_output(scan: ReadableScan, principal: ReadScans, session: DbSession) -> StreamingResponse:
    """Raw results of a scan's tasks as JSON Lines."""
    task_ids = service.repo(session, principal).task_ids(scan.id)
    return StreamingResponse(output.lines(task_ids), media_type="application/x-ndjson")
