"""The scanner catalog (api.md 2.4 `GET /scanners`, scanning.md section 2)."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import Field

from s4e.models._base import S4EModel


class Scanner(S4EModel):
    """One scanner a scan can run, with the JSON Schema of the `options` keys it reads."""

    id: str
    """Scanner id (e.g. `port_scan`): what a scan's `scanners` list names."""
    name: str
    """Display name."""
    category: str
    """network, tls, web, dns, discovery or vuln."""
    target_types: list[str] = Field(default_factory=list)
    """Asset types it scans: ip, network, domain, url."""
    active: bool
    """Sends traffic to the target (needs a verified asset); false for passive scanners."""
    phase: Optional[str] = None
    """Scan phase it reports progress under."""
    version: str
    """Scanner version."""
    options_schema: dict[str, Any] = Field(default_factory=dict)
    """JSON Schema of the scan `options` keys this scanner reads."""
