"""Services observed by scans (api.md 2.3): workspace-wide list, one service, and one asset's services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from s4e_platform.asset.dependencies import ReadableAsset, ReadAssets
from s4e_platform.auth.dependencies import DbSession
from s4e_platform.errors import BadRequest
from s4e_platform.inventory import service
from s4e_platform.inventory.models import Service
from s4e_platform.inventory.repository import SORTS
from s4e_platform.inventory.schemas import ServiceFilters, ServiceRead
from s4e_platform.kit.ids import parse_id
from s4e_platform.kit.pagination import PageParams, csv_values, order, page_params, paginate
from s4e_platform.kit.router import api_router
from s4e_platform.kit.schemas import Envelope, ListEnvelope

router = api_router(tags=["services"])

ServiceId = Annotated[str, Path(description="Service id (svc_...)", max_length=64)]


def _invalid(name: str, message: str) -> BadRequest:
    return BadRequest(f"{name}: {message}", code="invalid_parameter",
                      details=[{"path": f"query.{name}", "message": message, "code": "invalid_parameter"}])


def _ports(value: str | None) -> list[int] | None:
    items = csv_values(value)
    if items is None:
        return None
    ports = []
    for item in items:
        if not item.isdigit() or not 1 <= int(item) <= 65535:
            raise _invalid("port", f"{item!r} is not a port number (1-65535)")
        ports.append(int(item))
    return ports


def service_filters(
    port: Annotated[str | None, Query(max_length=1024, description="Comma list of port numbers")] = None,
    protocol: Annotated[str | None, Query(max_length=16, description="Comma list: tcp, udp")] = None,
    service: Annotated[str | None, Query(max_length=1024, description="Comma list of service names "
                                                                       "(http, ssh ...)")] = None,
    product: Annotated[str | None, Query(max_length=256, description="Product contains (case-insensitive)")] = None,
    tls: Annotated[str | None, Query(description="true or false")] = None,
    state: Annotated[str | None, Query(max_length=64, description="Comma list: open, closed, filtered")] = None,
) -> ServiceFilters:
    if tls is not None and tls not in ("true", "false"):
        raise _invalid("tls", "must be true or false")
    return ServiceFilters(ports=_ports(port), protocols=csv_values(protocol, {"tcp", "udp"}, "protocol"),
                          services=csv_values(service), product=product or None,
                          tls=None if tls is None else tls == "true",
                          states=csv_values(state, {"open", "closed", "filtered"}, "state"))


Filters = Annotated[ServiceFilters, Depends(service_filters)]
Paging = Annotated[PageParams, Depends(page_params)]


def _page(session, principal, filters: ServiceFilters, paging: PageParams) -> dict:
    stmt = order(service.query(session, principal, filters), paging, SORTS, "last_seen_at", Service.id)
    rows, meta = paginate(session, stmt, paging)
    return {"data": [service.to_read(r) for r in rows], "meta": meta}


@router.get("/services", response_model=ListEnvelope[ServiceRead], operation_id="list_services")
def list_services(
    principal: ReadAssets,
    session: DbSession,
    paging: Paging,
    filters: Filters,
    asset_id: Annotated[str | None, Query(max_length=2048, description="Comma list of asset ids")] = None,
):
    """List services (open ports) observed on the workspace's assets."""
    if asset_id is not None:
        # A malformed id matches nothing, like an unknown one.
        filters.asset_ids = [c for c in (parse_id(v, "ast") for v in csv_values(asset_id) or []) if c]
    return _page(session, principal, filters, paging)


@router.get("/services/{service_id}", response_model=Envelope[ServiceRead], operation_id="get_service")
def get_service(service_id: ServiceId, principal: ReadAssets, session: DbSession):
    """Get one service with banner, CPEs and TLS summary."""
    return {"data": service.to_read(service.get(session, principal, service_id)), "meta": {}}


@router.get("/assets/{asset_id}/services", response_model=ListEnvelope[ServiceRead],
            operation_id="list_asset_services")
def list_asset_services(asset: ReadableAsset, principal: ReadAssets, session: DbSession, paging: Paging,
                        filters: Filters):
    """List the services (open ports) observed on one asset."""
    filters.asset_ids = [asset.id]
    return _page(session, principal, filters, paging)
