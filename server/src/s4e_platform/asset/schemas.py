"""Asset request and response shapes (api.md 3.1)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from s4e_platform.kit.schemas import ReadModel, StrictModel, Timestamp

AssetType = Literal["domain", "ip", "network", "url"]
Criticality = Literal["low", "medium", "high", "critical"]
AssetStatus = Literal["pending_verification", "active", "inactive"]
Source = Literal["manual", "bulk", "csv", "discovery", "opservant"]
VerificationMethod = Literal["dns_txt", "http_file", "html_meta"]
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9:_./-]{0,63}$")
CRITICALITY_ORDER = ("low", "medium", "high", "critical")


def clean_tags(tags: list[str] | None) -> list[str] | None:
    if tags is None:
        return None
    if len(tags) > 50:
        raise ValueError("at most 50 tags")
    out: list[str] = []
    for i, tag in enumerate(tags):
        if not isinstance(tag, str):
            raise ValueError(f"tag {i} must be a string")
        t = tag.strip().lower()
        if not TAG_RE.match(t):
            raise ValueError(f"tag {tag!r} must match ^[a-z0-9][a-z0-9:_./-]{{0,63}}$")
        if t not in out:
            out.append(t)
    return out


class AssetCreate(StrictModel):
    name: str = Field(min_length=1, max_length=2048, description="Domain, IP, CIDR network or http(s) URL")
    type: AssetType = Field(description="Asset type")
    criticality: Criticality = Field("medium", description="Business criticality")
    tags: list[str] = Field(default_factory=list, description="Tags (<= 50, lower-case)")
    description: str = Field("", max_length=1024, description="Free text")
    owner_id: str | None = Field(None, description="usr_ id of the owning member")
    parent_id: str | None = Field(None, description="ast_ id of the parent asset")

    _tags = field_validator("tags")(lambda cls, v: clean_tags(v))


class AssetUpdate(StrictModel):
    tags: list[str] | None = Field(None, description="Replace the tags")
    criticality: Criticality | None = None
    description: str | None = Field(None, max_length=1024)
    owner_id: str | None = Field(None, description="usr_ id, or null to clear")
    status: Literal["active", "inactive"] | None = Field(None, description="Only active<->inactive")

    _tags = field_validator("tags")(lambda cls, v: clean_tags(v))


class Verification(ReadModel):
    method: str
    verified_at: str | None = None
    verified_by: str | None = None
    reason: str | None = None
    inherited_from: str | None = Field(None, description="ast_ id of the verified domain (method inherited)")


class FindingSummary(ReadModel):
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    info: int = 0


class AssetRead(ReadModel):
    id: str
    name: str
    type: AssetType
    status: AssetStatus
    verified: bool
    verification: Verification | None
    parent_id: str | None
    source: Source
    criticality: Criticality
    tags: list[str]
    description: str
    owner_id: str | None
    network_zone: Literal["external", "internal"]
    scan_route: Literal["platform", "agent", "none"]
    metadata: dict
    risk_score: int
    security_score: int
    grade: Literal["A", "B", "C", "D", "F"]
    finding_summary: FindingSummary
    service_count: int
    endpoint_count: int
    child_count: int
    last_scan_at: Timestamp | None
    last_scan_id: str | None
    created_at: Timestamp
    updated_at: Timestamp
    created_by: str | None
