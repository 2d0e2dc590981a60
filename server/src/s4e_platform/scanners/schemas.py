"""Scanner catalog response shape (api.md 2.4 `GET /scanners`, scanning.md section 2)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

CATEGORIES = ("network", "tls", "web", "dns", "discovery", "vuln")
TARGET_TYPES = ("ip", "network", "domain", "url")


class ScannerRead(BaseModel):
    id: str = Field(description="Scanner id, e.g. port_scan; what a scan's `scanners` list names")
    name: str = Field(description="Display name")
    category: str = Field(description="network, tls, web, dns, discovery or vuln")
    target_types: list[Literal["ip", "network", "domain", "url"]] = Field(description="Asset types it scans")
    active: bool = Field(description="Sends traffic to the target (needs a verified asset); false = passive")
    phase: str | None = Field(default=None, description="Scan phase it reports progress under")
    version: str = Field(description="Scanner version")
    options_schema: dict[str, Any] = Field(description="JSON Schema of the scan `options` keys it reads")
