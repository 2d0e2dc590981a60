"""Service response and list-filter shapes (api.md 2.3, 3.1 `Service`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from s4e_platform.kit.schemas import ReadModel, Timestamp

Protocol = Literal["tcp", "udp"]
ServiceState = Literal["open", "closed", "filtered"]
ServiceSource = Literal["scanner", "agent_inventory", "nmap_import"]


class ServiceRead(ReadModel):
    id: str = Field(description="svc_ id")
    asset_id: str = Field(description="ast_ id of the asset the service was observed on")
    ip: str = Field(description="Address the port answered on")
    host: str | None = Field(description="Name the service was reached by, when it was reached by name")
    port: int = Field(description="Port number, 1-65535")
    protocol: Protocol
    state: ServiceState = Field(description="State when last observed")
    service: str | None = Field(description="Service name, e.g. http, ssh, smtp")
    product: str | None = Field(description="Product answering, e.g. nginx, OpenSSH")
    version: str | None = Field(description="Product version")
    cpe: list[str] = Field(description="CPE 2.3 names of the product")
    banner: str | None = Field(description="First bytes the service sent (<= 1 KiB)")
    tls: bool = Field(description="The service speaks TLS")
    tls_summary: dict[str, Any] | None = Field(description="Protocol versions, certificate facts (TLS services)")
    details: dict[str, Any] = Field(description="Protocol facts, e.g. auth_required, anonymous_login, starttls")
    source: ServiceSource = Field(description="Who reported it")
    first_seen_at: Timestamp
    last_seen_at: Timestamp
    last_scan_id: str | None = Field(description="scn_ id of the scan that last observed it")


@dataclass
class ServiceFilters:
    """Parsed list filters; None means "not filtered"."""

    asset_ids: list[str] | None = None
    ports: list[int] | None = None
    protocols: list[str] | None = None
    services: list[str] | None = None
    product: str | None = None
    tls: bool | None = None
    states: list[str] | None = None
