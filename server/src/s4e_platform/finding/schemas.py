"""Finding request and response shapes (api.md 2.5, 3.3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from s4e_platform.asset.schemas import clean_tags
from s4e_platform.kit.schemas import ReadModel, StrictModel, Timestamp

Severity = Literal["critical", "high", "medium", "low", "info"]
Status = Literal["open", "confirmed", "in_progress", "resolved", "reopened", "false_positive", "accepted_risk"]
ListValue = str | list[str]
MAX_BULK_IDS = 1000
MAX_FILTER_SELECTION = 10_000


class FindingFilterBody(StrictModel):
    """The list filters as a JSON object (bulk changes, export); multi-value keys take a comma string or a list."""

    severity: ListValue | None = None
    status: ListValue | None = Field(None, description="Default: every status but false_positive")
    asset_id: ListValue | None = None
    scan_id: ListValue | None = Field(None, description="First or latest detecting scan")
    service_id: ListValue | None = None
    scanner: ListValue | None = None
    check_id: ListValue | None = None
    category: ListValue | None = None
    cve: ListValue | None = None
    cwe: ListValue | None = None
    tag: ListValue | None = Field(None, description="Asset tag (any matches)")
    criticality: ListValue | None = Field(None, description="Asset criticality")
    assignee_id: ListValue | None = Field(None, description="usr_ ids; `none` = unassigned")
    kev: bool | None = None
    epss_min: float | None = Field(None, ge=0, le=1)
    cvss_min: float | None = Field(None, ge=0, le=10)
    cvss_max: float | None = Field(None, ge=0, le=10)
    risk_min: int | None = Field(None, ge=0, le=100)
    sla_breached: bool | None = None
    from_: datetime | None = Field(None, alias="from", description="discovered_at >= (inclusive)")
    to: datetime | None = Field(None, description="discovered_at < (exclusive)")
    search: str | None = Field(None, max_length=256, description="Title, description, CVE ids")

    model_config = {**StrictModel.model_config, "populate_by_name": True}


class AssetRef(ReadModel):
    id: str
    name: str
    type: str
    criticality: str
    tags: list[str]


class Location(ReadModel):
    host: str | None = None
    ip: str | None = None
    port: int | None = None
    protocol: str | None = None
    url: str | None = None
    path: str | None = None
    method: str | None = None
    parameter: str | None = None


class Ticket(ReadModel):
    integration_id: str | None = None
    system: str | None = None
    key: str | None = None
    url: str | None = None
    status: str | None = None


class FindingRead(ReadModel):
    """A finding as lists return it: everything but the evidence."""

    id: str
    asset_id: str
    asset: AssetRef
    service_id: str | None
    endpoint_id: str | None
    scan_id: str | None
    last_scan_id: str | None
    scanner: str
    check_id: str
    title: str
    description: str
    remediation: str
    category: str
    severity: Severity
    original_severity: Severity
    severity_reason: str | None
    severity_override: Severity | None
    cvss: float | None
    cvss_vector: str | None
    cvss_version: str | None
    cve_ids: list[str]
    cwe_ids: list[str]
    references: list[str]
    kev: bool
    kev_date_added: date | None
    epss: float | None
    epss_percentile: float | None
    risk_score: int
    status: Status
    justification: str | None
    accepted_until: Timestamp | None
    resolution: Literal["fixed", "auto"] | None
    assignee_id: str | None
    due_date: date | None
    sla_due_at: Timestamp | None
    sla_breached: bool
    fingerprint: str
    fingerprint_version: int
    location: Location
    sighting_count: int
    reopen_count: int
    tickets: list[Ticket]
    tags: list[str]
    discovered_at: Timestamp
    last_seen_at: Timestamp
    resolved_at: Timestamp | None
    status_changed_at: Timestamp
    updated_at: Timestamp


class FindingDetail(FindingRead):
    """One finding with its latest evidence."""

    evidence: dict[str, Any] = Field(description="matched_at, matcher_name, extracted[], request, response, "
                                                 "curl_command, output")


class FindingUpdate(StrictModel):
    severity_override: Severity | None = Field(None, description="Manual severity; null returns to the "
                                                                 "rule/scanner severity")
    severity_justification: str | None = Field(None, description="Why (10-2000 characters); required with "
                                                                 "severity_override")
    tags: list[str] | None = Field(None, description="Replace the tags (<= 50, lower-case)")
    due_date: date | None = Field(None, description="YYYY-MM-DD, or null to clear")

    _tags = field_validator("tags")(lambda cls, v: clean_tags(v))


class StatusChange(StrictModel):
    status: Status
    justification: str | None = Field(None, max_length=2000, description="Required (10-2000 characters) for "
                                                                         "false_positive and accepted_risk")
    expires_at: datetime | None = Field(None, description="accepted_risk only: when it returns to open "
                                                          "(future, <= 365 days)")


class Selection(StrictModel):
    ids: list[str] | None = Field(None, min_length=1, max_length=MAX_BULK_IDS, description="fnd_ ids (1-1000)")
    filter: FindingFilterBody | None = Field(None, description="Select by the list filters instead of ids "
                                                               "(at most 10,000 matches)")


class BulkStatusChange(Selection, StatusChange):
    pass


class Assignment(StrictModel):
    assignee_id: str | None = Field(description="usr_ id of a workspace member, or null to unassign")
    due_date: date | None = Field(None, description="YYYY-MM-DD; leave out to keep, null to clear")


class BulkAssignment(Selection, Assignment):
    pass


class BulkResult(ReadModel):
    matched: int = Field(description="Findings selected")
    changed: int = Field(description="Findings changed")
    unchanged: int = Field(description="Findings already in the requested state")


class SeverityCounts(ReadModel):
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    info: int = 0


class FindingSummaryRead(ReadModel):
    total: int
    by_severity: SeverityCounts
    by_status: dict[str, int] = Field(description="Counts per status")
    by_severity_status: dict[str, dict[str, int]] = Field(description="severity -> status -> count")
    by_criticality: dict[str, int] = Field(description="Counts per asset criticality")
    sla_breached: int
    kev: int


class CommentCreate(StrictModel):
    body: str = Field(min_length=1, max_length=10_000, description="Markdown")

    @field_validator("body")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("body must not be blank")
        return v


class CommentUpdate(CommentCreate):
    pass


class CommentAuthor(ReadModel):
    type: str
    id: str | None
    name: str
    user_id: str | None = None


class CommentRead(ReadModel):
    id: str
    finding_id: str
    author: CommentAuthor
    body: str
    created_at: Timestamp
    updated_at: Timestamp


class SightingRead(ReadModel):
    id: int
    scan_id: str | None
    task_id: str | None
    seen_at: Timestamp
    evidence: dict[str, Any] | None = Field(description="Evidence excerpt (long values cut to 1 KiB); null once "
                                                        "older than the latest 100 sightings")


class HistoryActor(ReadModel):
    type: str
    id: str | None = None
    name: str | None = None


class HistoryRead(ReadModel):
    id: int
    field: str
    from_: str | None = Field(alias="from", serialization_alias="from")
    to: str | None
    actor: HistoryActor
    justification: str | None
    at: Timestamp

    model_config = {**ReadModel.model_config, "populate_by_name": True}


ExportField = Literal[
    "id", "title", "severity", "original_severity", "status", "asset_id", "asset_name", "asset_type",
    "asset_criticality", "asset_tags", "scanner", "check_id", "category", "cvss", "cvss_vector", "cve_ids",
    "cwe_ids", "kev", "epss", "epss_percentile", "risk_score", "assignee_id", "due_date", "sla_due_at",
    "sla_breached", "tags", "host", "ip", "port", "protocol", "url", "description", "remediation", "references",
    "justification", "resolution", "sighting_count", "reopen_count", "scan_id", "last_scan_id", "discovered_at",
    "last_seen_at", "resolved_at", "status_changed_at", "fingerprint"]
DEFAULT_EXPORT_FIELDS = ["id", "title", "severity", "status", "asset_name", "scanner", "check_id", "category",
                         "cvss", "cve_ids", "risk_score", "assignee_id", "sla_due_at", "discovered_at",
                         "last_seen_at"]


class ExportRequest(StrictModel):
    format: Literal["csv", "json"] = Field(description="csv (RFC 4180, with header) or json (one array)")
    filters: FindingFilterBody = Field(default_factory=FindingFilterBody, description="The list filters")
    fields: list[ExportField] | None = Field(None, min_length=1, max_length=64,
                                             description="Columns, in order (default: a triage set)")
