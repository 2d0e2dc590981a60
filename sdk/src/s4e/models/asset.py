"""Assets, bulk operations, CSV import and ownership verification (api.md 2.3, 3.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Optional

from pydantic import Field

from s4e.models._base import RequestModel, S4EModel

AssetType = Literal["domain", "ip", "network", "url"]
Criticality = Literal["low", "medium", "high", "critical"]
AssetStatus = Literal["pending_verification", "active", "inactive"]
AssetSource = Literal["manual", "bulk", "csv", "discovery", "opservant"]
VerificationMethod = Literal["dns_txt", "http_file", "html_meta"]
AssetSort = Literal["name", "type", "created_at", "risk_score", "security_score", "last_scan_at"]


class Verification(S4EModel):
    """How and when ownership was verified."""

    method: str
    """`dns_txt`, `http_file`, `html_meta`, `inherited` (subdomain/URL of a verified domain) or `override`."""
    verified_at: Optional[datetime] = None
    """When it was verified."""
    verified_by: Optional[str] = None
    """Who verified it (user id, or the checker)."""
    reason: Optional[str] = None
    """Justification of an admin override."""
    inherited_from: Optional[str] = None
    """`ast_` id of the verified domain, for `inherited`."""


class FindingSummary(S4EModel):
    """Counts of open, confirmed, in-progress and reopened findings by severity."""

    critical: int = 0
    """Critical findings."""
    high: int = 0
    """High findings."""
    medium: int = 0
    """Medium findings."""
    low: int = 0
    """Low findings."""
    info: int = 0
    """Informational findings."""


class Technology(S4EModel):
    """A technology fingerprinted on the asset."""

    name: str
    """Product name."""
    version: Optional[str] = None
    """Detected version."""
    cpe: Optional[str] = None
    """CPE 2.3 name."""
    categories: list[str] = Field(default_factory=list)
    """Categories such as `web-server`, `cms`."""
    confidence: Optional[int] = None
    """Detection confidence 0-100."""


class AssetMetadata(S4EModel):
    """What discovery learned about the asset (server-set)."""

    ip_addresses: list[str] = Field(default_factory=list)
    """Resolved or own addresses."""
    registrar: Optional[str] = None
    """Domain registrar."""
    asn: Optional[Any] = None
    """Autonomous system (number or object)."""
    cdn: Optional[Any] = None
    """CDN in front of the asset."""
    technologies: list[Technology] = Field(default_factory=list)
    """Fingerprinted technologies."""
    dns: dict[str, Any] = Field(default_factory=dict)
    """DNS records by type."""


class Asset(S4EModel):
    """A domain, IP address, network or URL under management."""

    id: str
    """`ast_` id."""
    name: str
    """Normalised name: lower-case punycode domain, canonical IP/CIDR, or URL."""
    type: str
    """`domain`, `ip`, `network` or `url`."""
    status: str
    """`pending_verification`, `active` or `inactive`."""
    verified: bool
    """Ownership verified (needed before active scans)."""
    verification: Optional[Verification] = None
    """How it was verified, when it is."""
    parent_id: Optional[str] = None
    """Parent asset (`ast_`), set by discovery for subdomains."""
    source: str
    """`manual`, `bulk`, `csv`, `discovery` or `opservant`."""
    criticality: str
    """`low`, `medium`, `high` or `critical`."""
    tags: list[str] = Field(default_factory=list)
    """Lower-case tags."""
    description: str = ""
    """Free text."""
    owner_id: Optional[str] = None
    """Owning member (`usr_`)."""
    network_zone: str
    """`external`, or `internal` when every address is private."""
    scan_route: str
    """How active scans reach it: `platform`, `agent` or `none`."""
    metadata: AssetMetadata = Field(default_factory=AssetMetadata)
    """Discovered addresses, registrar, ASN, CDN, technologies, DNS."""
    risk_score: int = 0
    """Highest risk score of its open findings (0-100)."""
    security_score: int = 100
    """Security score 0-100."""
    grade: str = "A"
    """Letter grade A-F from the security score."""
    finding_summary: FindingSummary = Field(default_factory=FindingSummary)
    """Open findings by severity."""
    service_count: int = 0
    """Known services."""
    endpoint_count: int = 0
    """Known endpoints."""
    child_count: int = 0
    """Child assets."""
    last_scan_at: Optional[datetime] = None
    """When it was last scanned."""
    last_scan_id: Optional[str] = None
    """Last scan (`scn_`)."""
    created_at: datetime
    """Creation time."""
    updated_at: datetime
    """Last change."""
    created_by: Optional[str] = None
    """Creator (user or key id)."""


class AssetCreate(RequestModel):
    """Body of `POST /assets` and one item of a bulk create."""

    name: str
    """Domain, IP, CIDR network or http(s) URL."""
    type: AssetType
    """Asset type."""
    criticality: Optional[Criticality] = None
    """Business criticality (server default `medium`)."""
    tags: Optional[list[str]] = None
    """Up to 50 tags, `^[a-z0-9][a-z0-9:_./-]{0,63}$`."""
    description: Optional[str] = None
    """Free text, up to 1024 characters."""
    owner_id: Optional[str] = None
    """`usr_` id of the owning member."""
    parent_id: Optional[str] = None
    """`ast_` id of the parent asset."""


class AssetUpdate(RequestModel):
    """Body of `PATCH /assets/{id}`; only the fields set are changed (`owner_id=None` clears the owner)."""

    tags: Optional[list[str]] = None
    """Replace the tags."""
    criticality: Optional[Criticality] = None
    """New criticality."""
    description: Optional[str] = None
    """New description."""
    owner_id: Optional[str] = None
    """`usr_` id, or None to clear."""
    status: Optional[Literal["active", "inactive"]] = None
    """Only `active` <-> `inactive`."""


class AssetBulkUpdate(AssetUpdate):
    """One item of a bulk update: the asset id plus the fields to change."""

    id: str
    """`ast_` id of the asset."""


class ItemError(S4EModel):
    """Why one bulk item or CSV row failed."""

    code: str
    """Machine-readable reason (`already_exists`, `validation_error` ...)."""
    message: str
    """Human-readable reason."""
    path: Optional[str] = None
    """JSONPath of the offending field, e.g. `$.items[3].name` (bulk)."""
    column: Optional[str] = None
    """CSV column at fault, when one is (import)."""


class BulkItemResult(S4EModel):
    """Outcome of one bulk item."""

    index: int
    """Position of the item in the request."""
    status: str
    """`created`, `updated`, `deleted`, `exists` or `error`."""
    id: Optional[str] = None
    """Asset id when there is one."""
    error: Optional[ItemError] = None
    """Why it failed (status `error`)."""


class BulkCounts(S4EModel):
    """Results by status."""

    created: int = 0
    """Items created."""
    updated: int = 0
    """Items updated."""
    deleted: int = 0
    """Items deleted."""
    exists: int = 0
    """Items that already existed."""
    error: int = 0
    """Items that failed."""


class BulkResult(S4EModel):
    """Response of `POST /assets/bulk`."""

    results: list[BulkItemResult]
    """One result per item, in request order."""
    counts: BulkCounts = Field(default_factory=BulkCounts)
    """Totals by status."""


class ImportRowResult(S4EModel):
    """Outcome of one CSV row."""

    line: int
    """Physical line where the row starts (line 1 is the header)."""
    status: str
    """`created`, `valid` (dry run), `exists` or `error`."""
    id: Optional[str] = None
    """Asset id when created or existing."""
    error: Optional[ItemError] = None
    """Why the row failed."""


class ImportCounts(S4EModel):
    """Rows by status."""

    created: int = 0
    """Rows created."""
    valid: int = 0
    """Rows that would be created (dry run)."""
    exists: int = 0
    """Rows naming an existing asset."""
    error: int = 0
    """Rows that failed."""


class ImportResult(S4EModel):
    """Response of `POST /assets/import`."""

    dry_run: bool
    """Nothing was written."""
    results: list[ImportRowResult]
    """One result per data row."""
    counts: ImportCounts = Field(default_factory=ImportCounts)
    """Totals by status."""


class VerificationMethodInfo(S4EModel):
    """Instructions for one verification method."""

    method: str
    """`dns_txt`, `http_file` or `html_meta`."""
    available: bool = True
    """Whether this method can verify this asset."""
    unavailable_reason: Optional[str] = None
    """Why it cannot, when it cannot."""
    instructions: str = ""
    """What to publish, in one sentence."""
    record_type: Optional[str] = None
    """`TXT` for `dns_txt`."""
    record_name: Optional[str] = None
    """Where to publish the TXT record (`dns_txt`)."""
    value: str = ""
    """The exact text to publish (TXT value, file body or meta tag)."""
    urls: list[str] = Field(default_factory=list)
    """URLs fetched, in order (`http_file`, `html_meta`)."""


class AssetVerification(S4EModel):
    """Response of `GET /assets/{id}/verification`: the token and how to publish it."""

    asset_id: str
    """The asset (`ast_`)."""
    token: str
    """`s4e-verification=<32 base62>` value to publish."""
    status: str
    """`verified` or `unverified`."""
    verified: bool
    """Whether the asset is verified."""
    verification: Optional[Verification] = None
    """How it was verified, when it is."""
    methods: list[VerificationMethodInfo] = Field(default_factory=list)
    """Per-method instructions."""


class VerificationCheck(RequestModel):
    """Body of `POST /assets/{id}/verification`."""

    method: VerificationMethod
    """`dns_txt`, `http_file` or `html_meta`."""


class VerificationOverride(RequestModel):
    """Body of `POST /assets/{id}/verification/override`."""

    reason: str
    """Why ownership is vouched for (10-1024 characters, audited)."""
