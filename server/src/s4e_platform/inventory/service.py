"""Reading services: visibility (workspace and asset restriction), filters, and the response shape."""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy.orm import Session

from s4e_platform.auth.principal import Principal
from s4e_platform.errors import NotFound
from s4e_platform.inventory.models import Service
from s4e_platform.inventory.repository import ServiceRepository
from s4e_platform.inventory.schemas import ServiceFilters
from s4e_platform.kit.ids import parse_id


def repo(session: Session, principal: Principal) -> ServiceRepository:
    return ServiceRepository(session, principal.workspace_id, principal.asset_restriction)


def get(session: Session, principal: Principal, service_id: str) -> Service:
    row = repo(session, principal).get(parse_id(service_id, "svc"))
    if row is None:
        raise NotFound("Service not found")
    return row


def query(session: Session, principal: Principal, filters: ServiceFilters) -> Select:
    """Services the principal may see, filtered (ordering and pages are the caller's)."""
    return repo(session, principal).filtered(filters)


def to_read(row: Service) -> dict:
    return {"id": row.id, "asset_id": row.asset_id, "ip": row.ip, "host": row.host, "port": row.port,
            "protocol": row.protocol, "state": row.state, "service": row.service, "product": row.product,
            "version": row.version, "cpe": list(row.cpe or []), "banner": row.banner, "tls": bool(row.tls),
            "tls_summary": row.tls_summary, "details": row.details or {}, "source": row.source,
            "first_seen_at": row.first_seen_at, "last_seen_at": row.last_seen_at, "last_scan_id": row.last_scan_id}
