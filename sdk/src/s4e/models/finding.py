"""Findings, their triage, comments, sightings and history (api.md 2.5, 3.3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, Optional, Union

from pydantic import Field

from s4e.models._base import RequestModel, S4EModel

Severity = Literal["critical", "high", "medium", "low", "info"]
FindingStatus = Literal["open", "confirmed", "in_progress", "resolved", "reopened", "false_positive",
                        "accepted_risk"]
FindingSort = Literal["discovered_at", "last_seen_at", "severity", "cvss", "risk_score", "sla_due_at", "title",
                      "status"]
ExportFormat = Literal["csv", "json"]
FilterValue = Union[str, list[str]]


class FindingAsset(S4EModel):
    """The asset a finding is on."""

    id: str
    """`ast_` id."""
    name: str
    """Asset name."""
    type: str
    """`domain`, `ip`, `network` or `url`."""
    criticality: str
    """Asset criticality."""
    tags: list[str] = Field(default_factory=list)
    """Asset tags."""


class FindingLocation(S4EModel):
    """Where the finding is."""

    host: Optional[str] = None
    """Host name."""
    ip: Optional[str] = None
    """IP address."""
    port: Optional[int] = None
    """Port."""
    protocol: Optional[str] = None
    """`tcp` or `udp`."""
    url: Optional[str] = None
    """URL (web findings)."""
    path: Optional[str] = None
    """URL path."""
    method: Optional[str] = None
    """HTTP method."""
    parameter: Optional[str] = None
    """Affected parameter."""


class Ticket(S4EModel):
    """A ticket opened for the finding in an integrated system."""

    integration_id: Optional[str] = None
    """`int_` id."""
    system: Optional[str] = None
    """Ticketing system."""
    key: Optional[str] = None
    """Ticket key."""
    url: Optional[str] = None
    """Link to the ticket."""
    status: Optional[str] = None
    """Ticket status."""


class Finding(S4EModel):
    """A security finding on an asset. Lists leave `evidence` out (None); `get()` includes it."""

    id: str
    """`fnd_` id."""
    asset_id: str
    """The asset (`ast_`)."""
    asset: FindingAsset
    """Asset name, type, criticality and tags."""
    service_id: Optional[str] = None
    """Service (`svc_`), when service-bound."""
    endpoint_id: Optional[str] = None
    """Endpoint (`ept_`), when endpoint-bound."""
    scan_id: Optional[str] = None
    """First detecting scan."""
    last_scan_id: Optional[str] = None
    """Latest detecting scan."""
    scanner: str
    """Scanner id."""
    check_id: str
    """Rule or template id."""
    title: str
    """Short title."""
    description: str = ""
    """What was found."""
    remediation: str = ""
    """How to fix it."""
    category: str
    """`tls`, `http_headers`, `exposure`, `dns`, `email`, `cve`, `service` ..."""
    severity: str
    """Effective severity after re-classification or override."""
    original_severity: str
    """The scanner's severity."""
    severity_reason: Optional[str] = None
    """Rule id or override justification that set `severity`."""
    severity_override: Optional[str] = None
    """Manual severity, when overridden."""
    cvss: Optional[float] = None
    """CVSS base score 0-10."""
    cvss_vector: Optional[str] = None
    """CVSS vector."""
    cvss_version: Optional[str] = None
    """`3.1` or `4.0`."""
    cve_ids: list[str] = Field(default_factory=list)
    """CVE ids."""
    cwe_ids: list[str] = Field(default_factory=list)
    """CWE ids."""
    references: list[str] = Field(default_factory=list)
    """Reference URLs."""
    kev: bool = False
    """A CVE of the finding is in CISA KEV."""
    kev_date_added: Optional[date] = None
    """When it entered KEV."""
    epss: Optional[float] = None
    """EPSS probability."""
    epss_percentile: Optional[float] = None
    """EPSS percentile."""
    risk_score: int = 0
    """Risk score 0-100."""
    status: str
    """`open`, `confirmed`, `in_progress`, `resolved`, `reopened`, `false_positive` or `accepted_risk`."""
    justification: Optional[str] = None
    """Why it is a false positive or an accepted risk."""
    accepted_until: Optional[datetime] = None
    """When an accepted risk returns to open."""
    resolution: Optional[str] = None
    """`fixed` (manual) or `auto` (not seen by a covering scan)."""
    assignee_id: Optional[str] = None
    """Assigned member (`usr_`)."""
    due_date: Optional[date] = None
    """Due date set by a person."""
    sla_due_at: Optional[datetime] = None
    """SLA deadline by severity."""
    sla_breached: bool = False
    """The SLA deadline passed."""
    fingerprint: str
    """Dedup fingerprint (SHA-256 hex)."""
    fingerprint_version: int = 1
    """Fingerprint algorithm version."""
    location: FindingLocation = Field(default_factory=FindingLocation)
    """Host, IP, port, URL ..."""
    evidence: Optional[dict[str, Any]] = None
    """Latest proof (only from `get()`): matched_at, matcher_name, extracted, request, response, curl_command,
    output."""
    sighting_count: int = 1
    """Detections so far."""
    reopen_count: int = 0
    """Times it came back after being resolved."""
    tickets: list[Ticket] = Field(default_factory=list)
    """Linked tickets."""
    tags: list[str] = Field(default_factory=list)
    """Finding tags."""
    discovered_at: datetime
    """First detection."""
    last_seen_at: datetime
    """Latest detection."""
    resolved_at: Optional[datetime] = None
    """When it was resolved."""
    status_changed_at: datetime
    """Last status change."""
    updated_at: datetime
    """Last change of the record."""


class SeverityCounts(S4EModel):
    """Counts per severity."""

    critical: int = 0
    """Critical."""
    high: int = 0
    """High."""
    medium: int = 0
    """Medium."""
    low: int = 0
    """Low."""
    info: int = 0
    """Informational."""


class FindingSummaryCounts(S4EModel):
    """Response of `GET /findings/summary`."""

    total: int
    """Findings matching the filters."""
    by_severity: SeverityCounts
    """Per severity."""
    by_status: dict[str, int]
    """Per status."""
    by_severity_status: dict[str, dict[str, int]]
    """severity -> status -> count."""
    by_criticality: dict[str, int]
    """Per asset criticality."""
    sla_breached: int
    """Past their SLA deadline."""
    kev: int
    """With a KEV-listed CVE."""


class BulkChangeResult(S4EModel):
    """Response of the bulk status and assignment calls."""

    matched: int
    """Findings selected."""
    changed: int
    """Findings changed."""
    unchanged: int
    """Findings already in the requested state."""


class CommentAuthor(S4EModel):
    """Who wrote a comment."""

    type: str
    """`user`, `api_key` or `oauth_client`."""
    id: Optional[str] = None
    """User, key or client id."""
    name: str
    """E-mail or credential name."""
    user_id: Optional[str] = None
    """The member behind the credential."""


class Comment(S4EModel):
    """A Markdown comment on a finding."""

    id: str
    """`cmt_` id."""
    finding_id: str
    """The finding."""
    author: CommentAuthor
    """Who wrote it."""
    body: str
    """Markdown text."""
    created_at: datetime
    """When it was written."""
    updated_at: datetime
    """Last edit."""


class Sighting(S4EModel):
    """One detection of a finding."""

    id: int
    """Sighting number."""
    scan_id: Optional[str] = None
    """Scan that saw it."""
    task_id: Optional[str] = None
    """Scan task that saw it."""
    seen_at: datetime
    """When."""
    evidence: Optional[dict[str, Any]] = None
    """Evidence excerpt (None once older than the latest 100 sightings)."""


class HistoryActor(S4EModel):
    """Who made a change."""

    type: str
    """`user`, `api_key`, `oauth_client` or `system`."""
    id: Optional[str] = None
    """Their id."""
    name: Optional[str] = None
    """Their name."""


class HistoryEntry(S4EModel):
    """One change of a finding's status, severity, assignment, due date or tags."""

    id: int
    """Entry number."""
    field: str
    """`status`, `severity`, `assignee`, `due_date` or `tags`."""
    from_: Optional[str] = Field(None, alias="from")
    """Old value."""
    to: Optional[str] = None
    """New value."""
    actor: HistoryActor
    """Who changed it."""
    justification: Optional[str] = None
    """Why."""
    at: datetime
    """When."""


class FindingFilter(RequestModel):
    """The list filters as an object (bulk calls, export); multi-value keys take a comma string or a list."""

    severity: Optional[FilterValue] = None
    """Severities."""
    status: Optional[FilterValue] = None
    """Statuses (default: all but false_positive)."""
    asset_id: Optional[FilterValue] = None
    """Asset ids."""
    scan_id: Optional[FilterValue] = None
    """First or latest detecting scan."""
    service_id: Optional[FilterValue] = None
    """Service ids."""
    scanner: Optional[FilterValue] = None
    """Scanner ids."""
    check_id: Optional[FilterValue] = None
    """Check ids."""
    category: Optional[FilterValue] = None
    """Categories."""
    cve: Optional[FilterValue] = None
    """CVE ids."""
    cwe: Optional[FilterValue] = None
    """CWE ids."""
    tag: Optional[FilterValue] = None
    """Asset tags (any)."""
    criticality: Optional[FilterValue] = None
    """Asset criticalities."""
    assignee_id: Optional[FilterValue] = None
    """Assignees (`none` = unassigned)."""
    kev: Optional[bool] = None
    """KEV-listed."""
    epss_min: Optional[float] = None
    """Minimum EPSS."""
    cvss_min: Optional[float] = None
    """Minimum CVSS."""
    cvss_max: Optional[float] = None
    """Maximum CVSS."""
    risk_min: Optional[int] = None
    """Minimum risk score."""
    sla_breached: Optional[bool] = None
    """Past the SLA deadline."""
    from_: Optional[datetime] = Field(None, alias="from")
    """Discovered at or after."""
    to: Optional[datetime] = None
    """Discovered before."""
    search: Optional[str] = None
    """Title, description, CVE ids."""


class FindingUpdate(RequestModel):
    """Body of `PATCH /findings/{id}`."""

    severity_override: Optional[Severity] = None
    """Manual severity (None returns to the rule/scanner severity)."""
    severity_justification: Optional[str] = None
    """Why (10-2000 characters), with severity_override."""
    tags: Optional[list[str]] = None
    """Replace the tags."""
    due_date: Optional[date] = None
    """Due date (None clears it)."""


class StatusChange(RequestModel):
    """Body of `POST /findings/{id}/status`."""

    status: FindingStatus
    """Target status."""
    justification: Optional[str] = None
    """Required for false_positive and accepted_risk (10-2000 characters)."""
    expires_at: Optional[datetime] = None
    """accepted_risk only: when it returns to open (<= 365 days)."""


class BulkStatusChange(StatusChange):
    """Body of `POST /findings/bulk-status`: `ids` or `filter`."""

    ids: Optional[list[str]] = None
    """Up to 1,000 finding ids."""
    filter: Optional[FindingFilter] = None
    """Select by filters instead (at most 10,000 matches)."""


class Assignment(RequestModel):
    """Body of `POST /findings/{id}/assign`."""

    assignee_id: Optional[str]
    """Member (`usr_`), or None to unassign."""
    due_date: Optional[date] = None
    """Due date (leave out to keep, None to clear)."""


class BulkAssignment(Assignment):
    """Body of `POST /findings/bulk-assign`: `ids` or `filter`."""

    ids: Optional[list[str]] = None
    """Up to 1,000 finding ids."""
    filter: Optional[FindingFilter] = None
    """Select by filters instead (at most 10,000 matches)."""


class ExportRequest(RequestModel):
    """Body of `POST /findings/export`."""

    format: ExportFormat
    """`csv` or `json`."""
    filters: Optional[FindingFilter] = None
    """The list filters."""
    fields: Optional[list[str]] = None
    """Columns, in order (default: a triage set)."""


class CommentInput(RequestModel):
    """Body of comment create/edit (`{"body": ...}`; the field is `text` here because `body()` is the JSON)."""

    text: str = Field(alias="body", min_length=1, max_length=10_000)
    """Markdown, 1-10,000 characters."""
