"""`client.findings`: list, summary, get, triage (PATCH, status, assignment, single and bulk), comments,
sightings, history and streamed export (api.md 2.5)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Optional, Union

from s4e._operations import operation
from s4e._types import NOT_GIVEN, NotGiven, StrList, given, path_segment, query
from s4e.models.finding import (
    Assignment,
    BulkChangeResult,
    BulkStatusChange,
    Comment,
    CommentInput,
    ExportFormat,
    ExportRequest,
    Finding,
    FindingFilter,
    FindingSort,
    FindingSummaryCounts,
    FindingUpdate,
    HistoryEntry,
    Sighting,
    StatusChange,
)
from s4e.pagination import AsyncPage, SyncPage
from s4e.resources._base import AsyncResource, SyncResource

When = Union[datetime, str]
Filter = Union[FindingFilter, Mapping[str, Any]]
Destination = Union[str, "os.PathLike[str]"]
_EXPORT = "/findings/export"
_ACCEPT = "text/csv, application/json"


def _path(finding_id: str, *rest: str) -> str:
    return "/".join([f"/findings/{path_segment(finding_id, 'finding_id')}", *rest])


def _comment_path(finding_id: str, comment_id: str) -> str:
    return _path(finding_id, "comments", path_segment(comment_id, "comment_id"))


def filter_params(**filters: Any) -> dict[str, str]:
    """Query parameters of the list filters (NOT_GIVEN/None left out, `from_` sent as `from`)."""
    return query(**filters)


def filter_body(value: Optional[Filter]) -> Optional[dict[str, Any]]:
    """A FindingFilter or a mapping of the list's keyword names (`from_` or `from`) as a JSON object."""
    if value is None:
        return None
    model = value if isinstance(value, FindingFilter) else FindingFilter(**dict(value))
    return model.body()


def _selection(ids: Optional[list[str]], filter: Optional[Filter]) -> dict[str, Any]:
    if (ids is None) == (filter is None):
        raise ValueError("pass either ids or filter")
    if ids is not None:
        if not ids:
            raise ValueError("ids must not be empty")
        return {"ids": list(ids)}
    return {"filter": filter_body(filter)}


def update_body(**fields: Any) -> dict[str, Any]:
    body = FindingUpdate(**given(fields)).body()
    if not body:
        raise ValueError("update needs at least one field to change")
    return body


def status_body(status: str, justification: Optional[str], expires_at: Optional[When]) -> dict[str, Any]:
    return StatusChange(**given({"status": status, "justification": justification or NOT_GIVEN,
                                 "expires_at": expires_at or NOT_GIVEN})).body()


def bulk_status_body(status: str, ids: Optional[list[str]], filter: Optional[Filter], justification: Optional[str],
                     expires_at: Optional[When]) -> dict[str, Any]:
    body = status_body(status, justification, expires_at)
    BulkStatusChange.model_validate({**body, **_selection(ids, filter)})  # local check before sending
    return {**body, **_selection(ids, filter)}


def assign_body(assignee_id: Optional[str], due_date: Union[date, str, None, NotGiven]) -> dict[str, Any]:
    return Assignment(**given({"assignee_id": assignee_id, "due_date": due_date})).body()


def export_body(format: str, filters: Optional[Filter], fields: Optional[list[str]]) -> dict[str, Any]:
    body: dict[str, Any] = {"format": format}
    if filters is not None:
        body["filters"] = filter_body(filters)
    if fields is not None:
        body["fields"] = list(fields)
    ExportRequest.model_validate(body)
    return body


class Findings(SyncResource):
    """Findings: list, triage, comments, history and export."""

    @operation("list_findings")
    def list(self, *, severity: StrList | NotGiven = NOT_GIVEN, status: StrList | NotGiven = NOT_GIVEN,
             asset_id: StrList | NotGiven = NOT_GIVEN, scan_id: StrList | NotGiven = NOT_GIVEN,
             service_id: StrList | NotGiven = NOT_GIVEN, scanner: StrList | NotGiven = NOT_GIVEN,
             check_id: StrList | NotGiven = NOT_GIVEN, category: StrList | NotGiven = NOT_GIVEN,
             cve: StrList | NotGiven = NOT_GIVEN, cwe: StrList | NotGiven = NOT_GIVEN,
             tag: StrList | NotGiven = NOT_GIVEN, criticality: StrList | NotGiven = NOT_GIVEN,
             assignee_id: StrList | NotGiven = NOT_GIVEN, kev: bool | NotGiven = NOT_GIVEN,
             epss_min: float | NotGiven = NOT_GIVEN, cvss_min: float | NotGiven = NOT_GIVEN,
             cvss_max: float | NotGiven = NOT_GIVEN, risk_min: int | NotGiven = NOT_GIVEN,
             sla_breached: bool | NotGiven = NOT_GIVEN, from_: When | NotGiven = NOT_GIVEN,
             to: When | NotGiven = NOT_GIVEN, search: str | NotGiven = NOT_GIVEN,
             sort_by: FindingSort | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN,
             page: int = 1, per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[Finding]:
        """List findings lazily across pages (evidence left out). Comma-list filters take a string or a list;
        `status` defaults to every status but false_positive; `assignee_id="none"` means unassigned;
        `from_`/`to` bound `discovered_at`; `search` matches title, description and CVE ids."""
        params = filter_params(
            severity=severity, status=status, asset_id=asset_id, scan_id=scan_id, service_id=service_id,
            scanner=scanner, check_id=check_id, category=category, cve=cve, cwe=cwe, tag=tag,
            criticality=criticality, assignee_id=assignee_id, kev=kev, epss_min=epss_min, cvss_min=cvss_min,
            cvss_max=cvss_max, risk_min=risk_min, sla_breached=sla_breached, from_=from_, to=to, search=search,
            sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page("/findings", Finding, params, page)

    @operation("get_finding_summary")
    def summary(self, *, severity: StrList | NotGiven = NOT_GIVEN, status: StrList | NotGiven = NOT_GIVEN,
                asset_id: StrList | NotGiven = NOT_GIVEN, scan_id: StrList | NotGiven = NOT_GIVEN,
                service_id: StrList | NotGiven = NOT_GIVEN, scanner: StrList | NotGiven = NOT_GIVEN,
                check_id: StrList | NotGiven = NOT_GIVEN, category: StrList | NotGiven = NOT_GIVEN,
                cve: StrList | NotGiven = NOT_GIVEN, cwe: StrList | NotGiven = NOT_GIVEN,
                tag: StrList | NotGiven = NOT_GIVEN, criticality: StrList | NotGiven = NOT_GIVEN,
                assignee_id: StrList | NotGiven = NOT_GIVEN, kev: bool | NotGiven = NOT_GIVEN,
                epss_min: float | NotGiven = NOT_GIVEN, cvss_min: float | NotGiven = NOT_GIVEN,
                cvss_max: float | NotGiven = NOT_GIVEN, risk_min: int | NotGiven = NOT_GIVEN,
                sla_breached: bool | NotGiven = NOT_GIVEN, from_: When | NotGiven = NOT_GIVEN,
                to: When | NotGiven = NOT_GIVEN, search: str | NotGiven = NOT_GIVEN) -> FindingSummaryCounts:
        """Counts by severity x status, SLA breached, KEV and asset criticality; filters as in `list`."""
        return self._get("/findings/summary", FindingSummaryCounts, filter_params(
            severity=severity, status=status, asset_id=asset_id, scan_id=scan_id, service_id=service_id,
            scanner=scanner, check_id=check_id, category=category, cve=cve, cwe=cwe, tag=tag,
            criticality=criticality, assignee_id=assignee_id, kev=kev, epss_min=epss_min, cvss_min=cvss_min,
            cvss_max=cvss_max, risk_min=risk_min, sla_breached=sla_breached, from_=from_, to=to, search=search))

    @operation("get_finding")
    def get(self, finding_id: str) -> Finding:
        """One finding with its evidence."""
        return self._get(_path(finding_id), Finding)

    @operation("update_finding")
    def update(self, finding_id: str, *, severity_override: Optional[str] | NotGiven = NOT_GIVEN,
               severity_justification: str | NotGiven = NOT_GIVEN, tags: list[str] | NotGiven = NOT_GIVEN,
               due_date: Union[date, str, None] | NotGiven = NOT_GIVEN) -> Finding:
        """Override the severity (with a 10-2000 character justification; None returns to the rule/scanner
        severity), replace the tags or set the due date (None clears it)."""
        body = update_body(severity_override=severity_override, severity_justification=severity_justification,
                           tags=tags, due_date=due_date)
        return self._send("PATCH", _path(finding_id), Finding, json=body)

    @operation("set_finding_status")
    def set_status(self, finding_id: str, *, status: str, justification: Optional[str] = None,
                   expires_at: Optional[When] = None) -> Finding:
        """Move a finding to `status` (setting the current one is a no-op). false_positive and accepted_risk
        need a justification; ValidationError `invalid_transition` for a move the lifecycle forbids."""
        return self._send("POST", _path(finding_id, "status"), Finding,
                          json=status_body(status, justification, expires_at))

    @operation("bulk_set_finding_status")
    def bulk_set_status(self, *, status: str, ids: Optional[list[str]] = None, filter: Optional[Filter] = None,
                        justification: Optional[str] = None,
                        expires_at: Optional[When] = None) -> BulkChangeResult:
        """Change the status of up to 1,000 findings by id, or of every match of `filter` (<= 10,000); all or
        nothing: one forbidden move fails the call, naming the ids in the error details."""
        body = bulk_status_body(status, ids, filter, justification, expires_at)
        return self._send("POST", "/findings/bulk-status", BulkChangeResult, json=body)

    @operation("assign_finding")
    def assign(self, finding_id: str, assignee_id: Optional[str], *,
               due_date: Union[date, str, None] | NotGiven = NOT_GIVEN) -> Finding:
        """Assign to a workspace member (None unassigns); `due_date` is kept unless given."""
        return self._send("POST", _path(finding_id, "assign"), Finding, json=assign_body(assignee_id, due_date))

    @operation("bulk_assign_findings")
    def bulk_assign(self, assignee_id: Optional[str], *, ids: Optional[list[str]] = None,
                    filter: Optional[Filter] = None,
                    due_date: Union[date, str, None] | NotGiven = NOT_GIVEN) -> BulkChangeResult:
        """Assign many findings by id or filter."""
        body = {**assign_body(assignee_id, due_date), **_selection(ids, filter)}
        return self._send("POST", "/findings/bulk-assign", BulkChangeResult, json=body)

    @operation("list_finding_comments")
    def list_comments(self, finding_id: str, *, sort_by: str | NotGiven = NOT_GIVEN,
                   sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
                      per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[Comment]:
        """A finding's comments, newest first unless `sort_order="asc"`."""
        return self._page(_path(finding_id, "comments"), Comment,
                          query(sort_by=sort_by, sort_order=sort_order, per_page=per_page), page)

    @operation("create_finding_comment")
    def add_comment(self, finding_id: str, *, body: str) -> Comment:
        """Add a Markdown comment (1-10,000 characters)."""
        return self._send("POST", _path(finding_id, "comments"), Comment, json=CommentInput(text=body).body())

    @operation("update_finding_comment")
    def update_comment(self, finding_id: str, comment_id: str, *, body: str) -> Comment:
        """Edit a comment (its author or a workspace admin)."""
        return self._send("PATCH", _comment_path(finding_id, comment_id), Comment,
                          json=CommentInput(text=body).body())

    @operation("delete_finding_comment")
    def delete_comment(self, finding_id: str, comment_id: str) -> None:
        """Delete a comment (its author or a workspace admin)."""
        self._send("DELETE", _comment_path(finding_id, comment_id), None)

    @operation("list_finding_sightings")
    def list_sightings(self, finding_id: str, *, sort_by: str | NotGiven = NOT_GIVEN,
                   sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
                       per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[Sighting]:
        """Every detection, newest first: scan, task, time and an evidence excerpt."""
        return self._page(_path(finding_id, "sightings"), Sighting,
                          query(sort_by=sort_by, sort_order=sort_order, per_page=per_page), page)

    @operation("list_finding_history")
    def list_history(self, finding_id: str, *, sort_by: str | NotGiven = NOT_GIVEN,
                   sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
                     per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[HistoryEntry]:
        """Status, severity, assignment and tag changes with actor and justification, newest first."""
        return self._page(_path(finding_id, "history"), HistoryEntry,
                          query(sort_by=sort_by, sort_order=sort_order, per_page=per_page), page)

    @operation("export_findings")
    def export(self, *, format: ExportFormat = "csv", filters: Optional[Filter] = None,
               fields: Optional[list[str]] = None, to: Optional[Destination] = None) -> Union[Iterator[bytes], Path]:
        """Export matching findings as CSV or one JSON array, streamed: with `to` the file is written chunk by
        chunk and its Path returned; without, an iterator of byte chunks (consume it fully or close it)."""
        # Sent now, so a refused export raises here; no Idempotency-Key: an export is a read and the server
        # does not store streamed files for replay.
        response = self._transport.request("POST", _EXPORT, json=export_body(format, filters, fields), stream=True,
                                           idempotency_key="", headers={"Accept": _ACCEPT})
        chunks = _iter_sync(response)
        return chunks if to is None else _write(Path(to), chunks)


def _iter_sync(response: Any) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes()
    finally:
        response.close()


def _write(path: Path, chunks: Iterator[bytes]) -> Path:
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


class AsyncFindings(AsyncResource):
    """Findings: list, triage, comments, history and export (asyncio)."""

    @operation("list_findings")
    def list(self, *, severity: StrList | NotGiven = NOT_GIVEN, status: StrList | NotGiven = NOT_GIVEN,
             asset_id: StrList | NotGiven = NOT_GIVEN, scan_id: StrList | NotGiven = NOT_GIVEN,
             service_id: StrList | NotGiven = NOT_GIVEN, scanner: StrList | NotGiven = NOT_GIVEN,
             check_id: StrList | NotGiven = NOT_GIVEN, category: StrList | NotGiven = NOT_GIVEN,
             cve: StrList | NotGiven = NOT_GIVEN, cwe: StrList | NotGiven = NOT_GIVEN,
             tag: StrList | NotGiven = NOT_GIVEN, criticality: StrList | NotGiven = NOT_GIVEN,
             assignee_id: StrList | NotGiven = NOT_GIVEN, kev: bool | NotGiven = NOT_GIVEN,
             epss_min: float | NotGiven = NOT_GIVEN, cvss_min: float | NotGiven = NOT_GIVEN,
             cvss_max: float | NotGiven = NOT_GIVEN, risk_min: int | NotGiven = NOT_GIVEN,
             sla_breached: bool | NotGiven = NOT_GIVEN, from_: When | NotGiven = NOT_GIVEN,
             to: When | NotGiven = NOT_GIVEN, search: str | NotGiven = NOT_GIVEN,
             sort_by: FindingSort | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN,
             page: int = 1, per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[Finding]:
        """List findings lazily across pages (`async for`); filters as in the sync client."""
        params = filter_params(
            severity=severity, status=status, asset_id=asset_id, scan_id=scan_id, service_id=service_id,
            scanner=scanner, check_id=check_id, category=category, cve=cve, cwe=cwe, tag=tag,
            criticality=criticality, assignee_id=assignee_id, kev=kev, epss_min=epss_min, cvss_min=cvss_min,
            cvss_max=cvss_max, risk_min=risk_min, sla_breached=sla_breached, from_=from_, to=to, search=search,
            sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page("/findings", Finding, params, page)

    @operation("get_finding_summary")
    async def summary(self, *, severity: StrList | NotGiven = NOT_GIVEN, status: StrList | NotGiven = NOT_GIVEN,
                      asset_id: StrList | NotGiven = NOT_GIVEN, scan_id: StrList | NotGiven = NOT_GIVEN,
                      service_id: StrList | NotGiven = NOT_GIVEN, scanner: StrList | NotGiven = NOT_GIVEN,
                      check_id: StrList | NotGiven = NOT_GIVEN, category: StrList | NotGiven = NOT_GIVEN,
                      cve: StrList | NotGiven = NOT_GIVEN, cwe: StrList | NotGiven = NOT_GIVEN,
                      tag: StrList | NotGiven = NOT_GIVEN, criticality: StrList | NotGiven = NOT_GIVEN,
                      assignee_id: StrList | NotGiven = NOT_GIVEN, kev: bool | NotGiven = NOT_GIVEN,
                      epss_min: float | NotGiven = NOT_GIVEN, cvss_min: float | NotGiven = NOT_GIVEN,
                      cvss_max: float | NotGiven = NOT_GIVEN, risk_min: int | NotGiven = NOT_GIVEN,
                      sla_breached: bool | NotGiven = NOT_GIVEN, from_: When | NotGiven = NOT_GIVEN,
                      to: When | NotGiven = NOT_GIVEN, search: str | NotGiven = NOT_GIVEN) -> FindingSummaryCounts:
        """Counts by severity x status, SLA breached, KEV and asset criticality; filters as in `list`."""
        return await self._get("/findings/summary", FindingSummaryCounts, filter_params(
            severity=severity, status=status, asset_id=asset_id, scan_id=scan_id, service_id=service_id,
            scanner=scanner, check_id=check_id, category=category, cve=cve, cwe=cwe, tag=tag,
            criticality=criticality, assignee_id=assignee_id, kev=kev, epss_min=epss_min, cvss_min=cvss_min,
            cvss_max=cvss_max, risk_min=risk_min, sla_breached=sla_breached, from_=from_, to=to, search=search))

    @operation("get_finding")
    async def get(self, finding_id: str) -> Finding:
        """One finding with its evidence."""
        return await self._get(_path(finding_id), Finding)

    @operation("update_finding")
    async def update(self, finding_id: str, *, severity_override: Optional[str] | NotGiven = NOT_GIVEN,
                     severity_justification: str | NotGiven = NOT_GIVEN, tags: list[str] | NotGiven = NOT_GIVEN,
                     due_date: Union[date, str, None] | NotGiven = NOT_GIVEN) -> Finding:
        """Override the severity, replace the tags or set the due date."""
        body = update_body(severity_override=severity_override, severity_justification=severity_justification,
                           tags=tags, due_date=due_date)
        return await self._send("PATCH", _path(finding_id), Finding, json=body)

    @operation("set_finding_status")
    async def set_status(self, finding_id: str, *, status: str, justification: Optional[str] = None,
                         expires_at: Optional[When] = None) -> Finding:
        """Move a finding to `status` (setting the current one is a no-op)."""
        return await self._send("POST", _path(finding_id, "status"), Finding,
                                json=status_body(status, justification, expires_at))

    @operation("bulk_set_finding_status")
    async def bulk_set_status(self, *, status: str, ids: Optional[list[str]] = None,
                              filter: Optional[Filter] = None, justification: Optional[str] = None,
                              expires_at: Optional[When] = None) -> BulkChangeResult:
        """Change the status of many findings by id or filter, all or nothing."""
        body = bulk_status_body(status, ids, filter, justification, expires_at)
        return await self._send("POST", "/findings/bulk-status", BulkChangeResult, json=body)

    @operation("assign_finding")
    async def assign(self, finding_id: str, assignee_id: Optional[str], *,
                     due_date: Union[date, str, None] | NotGiven = NOT_GIVEN) -> Finding:
        """Assign to a workspace member (None unassigns)."""
        return await self._send("POST", _path(finding_id, "assign"), Finding,
                                json=assign_body(assignee_id, due_date))

    @operation("bulk_assign_findings")
    async def bulk_assign(self, assignee_id: Optional[str], *, ids: Optional[list[str]] = None,
                          filter: Optional[Filter] = None,
                          due_date: Union[date, str, None] | NotGiven = NOT_GIVEN) -> BulkChangeResult:
        """Assign many findings by id or filter."""
        body = {**assign_body(assignee_id, due_date), **_selection(ids, filter)}
        return await self._send("POST", "/findings/bulk-assign", BulkChangeResult, json=body)

    @operation("list_finding_comments")
    def list_comments(self, finding_id: str, *, sort_by: str | NotGiven = NOT_GIVEN,
                   sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
                      per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[Comment]:
        """A finding's comments (`async for`)."""
        return self._page(_path(finding_id, "comments"), Comment,
                          query(sort_by=sort_by, sort_order=sort_order, per_page=per_page), page)

    @operation("create_finding_comment")
    async def add_comment(self, finding_id: str, *, body: str) -> Comment:
        """Add a Markdown comment."""
        return await self._send("POST", _path(finding_id, "comments"), Comment,
                                json=CommentInput(text=body).body())

    @operation("update_finding_comment")
    async def update_comment(self, finding_id: str, comment_id: str, *, body: str) -> Comment:
        """Edit a comment (its author or a workspace admin)."""
        return await self._send("PATCH", _comment_path(finding_id, comment_id), Comment,
                                json=CommentInput(text=body).body())

    @operation("delete_finding_comment")
    async def delete_comment(self, finding_id: str, comment_id: str) -> None:
        """Delete a comment (its author or a workspace admin)."""
        await self._send("DELETE", _comment_path(finding_id, comment_id), None)

    @operation("list_finding_sightings")
    def list_sightings(self, finding_id: str, *, sort_by: str | NotGiven = NOT_GIVEN,
                   sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
                       per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[Sighting]:
        """Every detection, newest first (`async for`)."""
        return self._page(_path(finding_id, "sightings"), Sighting,
                          query(sort_by=sort_by, sort_order=sort_order, per_page=per_page), page)

    @operation("list_finding_history")
    def list_history(self, finding_id: str, *, sort_by: str | NotGiven = NOT_GIVEN,
                   sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
                     per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[HistoryEntry]:
        """Changes with actor and justification (`async for`)."""
        return self._page(_path(finding_id, "history"), HistoryEntry,
                          query(sort_by=sort_by, sort_order=sort_order, per_page=per_page), page)

    @operation("export_findings")
    async def export(self, *, format: ExportFormat = "csv", filters: Optional[Filter] = None,
                     fields: Optional[list[str]] = None,
                     to: Optional[Destination] = None) -> Union[AsyncIterator[bytes], Path]:
        """Export matching findings, streamed: with `to` the file is written and its Path returned; without,
        an async iterator of byte chunks."""
        response = await self._transport.request("POST", _EXPORT, json=export_body(format, filters, fields),
                                                 stream=True, idempotency_key="", headers={"Accept": _ACCEPT})
        chunks = _iter_async(response)
        if to is None:
            return chunks
        path = Path(to)
        tmp = path.with_name(path.name + ".part")
        try:
            with open(tmp, "wb") as fh:
                async for chunk in chunks:
                    fh.write(chunk)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return path


async def _iter_async(response: Any) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    finally:
        await response.aclose()
