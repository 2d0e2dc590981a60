"""Services: open ports and what answers on them, as scans observed them (api.md 2.3, 3.1 `Service`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Optional

from pydantic import Field

from s4e.models._base import S4EModel

ServiceSort = Literal["port", "last_seen_at"]


class Service(S4EModel):
    """One (address, protocol, port) of an asset, as last observed."""

    id: str
    """`svc_` id."""
    asset_id: str
    """The asset it was observed on (`ast_`)."""
    ip: str
    """Address the port answered on."""
    host: Optional[str] = None
    """Name the service was reached by, when it was reached by name."""
    port: int
    """Port number, 1-65535."""
    protocol: str
    """`tcp` or `udp`."""
    state: str
    """`open`, `closed` or `filtered` when last observed."""
    service: Optional[str] = None
    """Service name, e.g. `http`, `ssh`, `smtp`."""
    product: Optional[str] = None
    """Product answering, e.g. `nginx`, `OpenSSH`."""
    version: Optional[str] = None
    """Product version."""
    cpe: list[str] = Field(default_factory=list)
    """CPE 2.3 names of the product."""
    banner: Optional[str] = None
    """First bytes the service sent (at most 1 KiB)."""
    tls: bool = False
    """The service speaks TLS."""
    tls_summary: Optional[dict[str, Any]] = None
    """Protocol versions and certificate facts, for TLS services."""
    details: dict[str, Any] = Field(default_factory=dict)
    """Protocol facts such as `auth_required`, `anonymous_login`, `starttls`."""
    source: str
    """`scanner`, `agent_inventory` or `nmap_import`."""
    first_seen_at: datetime
    """When a scan first saw it."""
    last_seen_at: datetime
    """When a scan last saw it."""
    last_scan_id: Optional[str] = None
    """The scan that last saw it (`scn_`)."""
