"""Finding endpoints (api.md 2.5): list, summary, read, PATCH, status and assignment (single and bulk), export.
Comments, sightings and history: comment_endpoints.py. Literal paths come before `/findings/{finding_id}`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.responses import StreamingResponse

from s4e_platform.auth.dependencies import DbSession
from s4e_platform.finding import export, lifecycle, service
from s4e_platform.finding.dependencies import (
    ListFilters,
    ReadableFinding,
    ReadFindings,
    WritableFinding,
    WriteFindings,
    export_limit,
)
from s4e_platform.finding.queries import filters_from_body
from s4e_platform.finding.schemas import (
    DEFAULT_EXPORT_FIELDS,
    Assignment,
    BulkAssignment,
    BulkResult,
    BulkStatusChange,
    ExportRequest,
    FindingDetail,
    FindingRead,
    FindingSummaryRead,
    FindingUpdate,
    StatusChange,
)
from s4e_platform.kit.pagination import PageParams, page_params
from s4e_platform.kit.router import api_router
from s4e_platform.kit.schemas import Envelope, ErrorEnvelope, ListEnvelope

router = api_router(tags=["findings"])

_EXPORT_RESPONSES = {
    200: {"description": "The export as an attachment, streamed",
          "content": {"text/csv": {"schema": {"type": "string"}},
                      "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}},
}
_TRANSITION = {422: {"model": ErrorEnvelope, "description": "Validation failed or invalid_transition"}}


@router.get("/findings", response_model=ListEnvelope[FindingRead], operation_id="list_findings")
def list_findings(principal: ReadFindings, session: DbSession, filters: ListFilters,
                  paging: Annotated[PageParams, Depends(page_params)]):
    """List findings (evidence omitted; get one finding for it)."""
    data, meta = service.list_page(session, principal, filters, paging)
    return {"data": data, "meta": meta}


@router.get("/findings/summary", response_model=Envelope[FindingSummaryRead],
            operation_id="get_finding_summary")
def get_finding_summary(principal: ReadFindings, session: DbSession, filters: ListFilters):
    """Count findings by severity x status, SLA breached, KEV and asset criticality."""
    return {"data": service.summary_counts(session, principal, filters), "meta": {}}


@router.post("/findings/bulk-status", response_model=Envelope[BulkResult], operation_id="bulk_set_finding_status",
             responses=_TRANSITION)
def bulk_set_finding_status(body: BulkStatusChange, principal: WriteFindings, session: DbSession):
    """Change the status of up to 1,000 findings by id (or 10,000 by filter), all or nothing."""
    rows = service.select_findings(session, principal, body)
    counts = service.bulk_set_status(session, principal, rows, status=body.status,
                                     justification=body.justification, expires_at=body.expires_at)
    return {"data": counts, "meta": {}}


@router.post("/findings/bulk-assign", response_model=Envelope[BulkResult], operation_id="bulk_assign_findings")
def bulk_assign_findings(body: BulkAssignment, principal: WriteFindings, session: DbSession):
    """Assign (or unassign) many findings by id or filter, with an optional due date."""
    rows = service.select_findings(session, principal, body)
    return {"data": service.bulk_assign(session, principal, rows, body), "meta": {}}


@router.post("/findings/export", operation_id="export_findings", response_class=StreamingResponse,
             responses=_EXPORT_RESPONSES, dependencies=[Depends(export_limit)])
def export_findings(body: ExportRequest, principal: ReadFindings):
    """Export findings matching the filters as CSV or JSON (streamed attachment)."""
    filters = filters_from_body(body.filters, "$.filters")
    fields = list(body.fields or DEFAULT_EXPORT_FIELDS)
    stream = export.stream_csv if body.format == "csv" else export.stream_json
    chunks = stream(principal.workspace_id, dict(principal.asset_restriction or {}), filters, fields)
    return StreamingResponse(chunks, media_type=export.MEDIA_TYPES[body.format], headers={
        "Content-Disposition": f'attachment; filename="{export.filename(body.format)}"'})


@router.get("/findings/{finding_id}", response_model=Envelope[FindingDetail], operation_id="get_finding")
def get_finding(finding: ReadableFinding, principal: ReadFindings, session: DbSession):
    """Get one finding with its evidence."""
    full = service.get(session, principal, finding.id, with_evidence=True)
    return {"data": service.to_read(full, service.asset_of(session, full), evidence=True), "meta": {}}


@router.patch("/findings/{finding_id}", response_model=Envelope[FindingRead], operation_id="update_finding")
def update_finding(body: FindingUpdate, finding: WritableFinding, principal: WriteFindings, session: DbSession):
    """Override the severity (with justification), replace tags or set the due date."""
    service.update(session, principal, finding, body)
    return {"data": service.to_read(finding, service.asset_of(session, finding)), "meta": {}}


@router.post("/findings/{finding_id}/status", response_model=Envelope[FindingRead],
             operation_id="set_finding_status", responses=_TRANSITION)
def set_finding_status(body: StatusChange, finding: WritableFinding, principal: WriteFindings, session: DbSession):
    """Move a finding to another status (same status: no-op)."""
    lifecycle.change_status(session, finding, status=body.status, actor=principal.actor(),
                            justification=body.justification, expires_at=body.expires_at)
    return {"data": service.to_read(finding, service.asset_of(session, finding)), "meta": {}}


@router.post("/findings/{finding_id}/assign", response_model=Envelope[FindingRead], operation_id="assign_finding")
def assign_finding(body: Assignment, finding: WritableFinding, principal: WriteFindings, session: DbSession):
    """Assign a finding to a workspace member (null unassigns), with an optional due date."""
    assignee = service.check_assignee(session, principal, body.assignee_id)
    service.assign(session, principal, finding, body, assignee)
    return {"data": service.to_read(finding, service.asset_of(session, finding)), "meta": {}}
