"""`client.assets`: list, get, create, update, delete (api.md 2.3); bulk and import live in asset_bulk.py,
ownership verification in asset_verification.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional, Union

from s4e._operations import operation
from s4e._types import NOT_GIVEN, NotGiven, StrList, given, path_segment, query
from s4e.models.asset import Asset, AssetCreate, AssetSort, AssetUpdate, Criticality
from s4e.models.scan import ServiceImport
from s4e.models.service import Service, ServiceSort
from s4e.pagination import AsyncPage, SyncPage
from s4e.resources._base import AsyncResource, SyncResource
from s4e.resources.asset_bulk import AsyncAssetBulk, SyncAssetBulk, XmlSource, read_xml
from s4e.resources.asset_verification import AssetVerificationResource, AsyncAssetVerificationResource
from s4e.resources.services import PortList, filter_params

When = Union[datetime, str]


def _path(asset_id: str) -> str:
    return f"/assets/{path_segment(asset_id, 'asset_id')}"


def list_params(**options: Any) -> dict[str, str]:
    return query(**options)


def create_body(**fields: Any) -> dict[str, Any]:
    return AssetCreate(**given(fields)).body()


def update_body(**fields: Any) -> dict[str, Any]:
    body = AssetUpdate(**given(fields)).body()
    if not body:
        raise ValueError("update needs at least one field to change")
    return body


class Assets(SyncAssetBulk, SyncResource):
    """Assets: domains, IPs, networks and URLs under management."""

    def __init__(self, transport: Any) -> None:
        super().__init__(transport)
        self.verification = AssetVerificationResource(transport)
        """Ownership verification: get instructions, check, override, revoke."""

    @operation("list_assets")
    def list(self, *, type: StrList | NotGiven = NOT_GIVEN, status: StrList | NotGiven = NOT_GIVEN,
             tag: StrList | NotGiven = NOT_GIVEN, criticality: StrList | NotGiven = NOT_GIVEN,
             verified: bool | NotGiven = NOT_GIVEN, parent_id: str | NotGiven = NOT_GIVEN,
             source: StrList | NotGiven = NOT_GIVEN, network_zone: StrList | NotGiven = NOT_GIVEN,
             owner_id: str | NotGiven = NOT_GIVEN, from_: When | NotGiven = NOT_GIVEN,
             to: When | NotGiven = NOT_GIVEN, search: str | NotGiven = NOT_GIVEN,
             sort_by: AssetSort | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN,
             page: int = 1, per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[Asset]:
        """List assets, lazily across pages. Comma-list filters take a string or a list; `from_`/`to` bound
        `created_at` (inclusive/exclusive); `search` matches name, description and metadata."""
        params = list_params(type=type, status=status, tag=tag, criticality=criticality, verified=verified,
                             parent_id=parent_id, source=source, network_zone=network_zone, owner_id=owner_id,
                             from_=from_, to=to, search=search, sort_by=sort_by, sort_order=sort_order,
                             per_page=per_page)
        return self._page("/assets", Asset, params, page)

    @operation("get_asset")
    def get(self, asset_id: str) -> Asset:
        """Get one asset with metadata, finding summary and scores."""
        return self._get(_path(asset_id), Asset)

    @operation("create_asset")
    def create(self, *, name: str, type: str, criticality: Criticality | NotGiven = NOT_GIVEN,
               tags: list[str] | NotGiven = NOT_GIVEN, description: str | NotGiven = NOT_GIVEN,
               owner_id: Optional[str] | NotGiven = NOT_GIVEN, parent_id: Optional[str] | NotGiven = NOT_GIVEN,
               idempotency_key: str | None = None) -> Asset:
        """Create an asset (it starts `pending_verification`). Raises ConflictError (`already_exists`) when the
        same type and normalised name exist."""
        body = create_body(name=name, type=type, criticality=criticality, tags=tags, description=description,
                           owner_id=owner_id, parent_id=parent_id)
        return self._send("POST", "/assets", Asset, json=body, idempotency_key=idempotency_key)

    @operation("update_asset")
    def update(self, asset_id: str, *, tags: list[str] | NotGiven = NOT_GIVEN,
               criticality: Criticality | NotGiven = NOT_GIVEN, description: str | NotGiven = NOT_GIVEN,
               owner_id: Optional[str] | NotGiven = NOT_GIVEN, status: str | NotGiven = NOT_GIVEN) -> Asset:
        """Change tags, criticality, description, owner (None clears it) or status (`active`/`inactive`)."""
        body = update_body(tags=tags, criticality=criticality, description=description, owner_id=owner_id,
                           status=status)
        return self._send("PATCH", _path(asset_id), Asset, json=body)

    @operation("delete_asset")
    def delete(self, asset_id: str, *, cascade: bool = False) -> None:
        """Delete an asset; with children, services or findings it needs `cascade=True` (else ConflictError
        `has_dependents`)."""
        self._send("DELETE", _path(asset_id), None, params=query(cascade=cascade) if cascade else None)

    @operation("list_asset_services")
    def list_services(self, asset_id: str, *, port: PortList | NotGiven = NOT_GIVEN,
                      protocol: StrList | NotGiven = NOT_GIVEN, service: StrList | NotGiven = NOT_GIVEN,
                      product: str | NotGiven = NOT_GIVEN, tls: bool | NotGiven = NOT_GIVEN,
                      state: StrList | NotGiven = NOT_GIVEN, sort_by: ServiceSort | NotGiven = NOT_GIVEN,
                      sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
                      per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[Service]:
        """The services (open ports) observed on one asset, lazily across pages; filters as in
        `client.services.list`."""
        params = filter_params(port=port, protocol=protocol, service=service, product=product, tls=tls, state=state,
                               sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page(f"{_path(asset_id)}/services", Service, params, page)

    @operation("import_asset_services")
    def import_nmap(self, asset_id: str, file: XmlSource, *, idempotency_key: Optional[str] = None) -> ServiceImport:
        """Record nmap XML output (`nmap -oX`, a path, bytes or binary file, up to 20 MiB) as a completed port
        scan of the asset: its services and the port scanner's exposure findings. Hosts of the file that are not
        part of the asset are skipped and listed."""
        data = read_xml(file)
        return self._send("POST", f"{_path(asset_id)}/services/import", ServiceImport, content=data,
                          headers={"Content-Type": "application/xml"}, idempotency_key=idempotency_key)


class AsyncAssets(AsyncAssetBulk, AsyncResource):
    """Assets: domains, IPs, networks and URLs under management (asyncio)."""

    def __init__(self, transport: Any) -> None:
        super().__init__(transport)
        self.verification = AsyncAssetVerificationResource(transport)
        """Ownership verification: get instructions, check, override, revoke."""

    @operation("list_assets")
    def list(self, *, type: StrList | NotGiven = NOT_GIVEN, status: StrList | NotGiven = NOT_GIVEN,
             tag: StrList | NotGiven = NOT_GIVEN, criticality: StrList | NotGiven = NOT_GIVEN,
             verified: bool | NotGiven = NOT_GIVEN, parent_id: str | NotGiven = NOT_GIVEN,
             source: StrList | NotGiven = NOT_GIVEN, network_zone: StrList | NotGiven = NOT_GIVEN,
             owner_id: str | NotGiven = NOT_GIVEN, from_: When | NotGiven = NOT_GIVEN,
             to: When | NotGiven = NOT_GIVEN, search: str | NotGiven = NOT_GIVEN,
             sort_by: AssetSort | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN,
             page: int = 1, per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[Asset]:
        """List assets, lazily across pages (`async for`). Filters as in the sync client."""
        params = list_params(type=type, status=status, tag=tag, criticality=criticality, verified=verified,
                             parent_id=parent_id, source=source, network_zone=network_zone, owner_id=owner_id,
                             from_=from_, to=to, search=search, sort_by=sort_by, sort_order=sort_order,
                             per_page=per_page)
        return self._page("/assets", Asset, params, page)

    @operation("get_asset")
    async def get(self, asset_id: str) -> Asset:
        """Get one asset with metadata, finding summary and scores."""
        return await self._get(_path(asset_id), Asset)

    @operation("create_asset")
    async def create(self, *, name: str, type: str, criticality: Criticality | NotGiven = NOT_GIVEN,
                     tags: list[str] | NotGiven = NOT_GIVEN, description: str | NotGiven = NOT_GIVEN,
                     owner_id: Optional[str] | NotGiven = NOT_GIVEN,
                     parent_id: Optional[str] | NotGiven = NOT_GIVEN, idempotency_key: str | None = None) -> Asset:
        """Create an asset (it starts `pending_verification`)."""
        body = create_body(name=name, type=type, criticality=criticality, tags=tags, description=description,
                           owner_id=owner_id, parent_id=parent_id)
        return await self._send("POST", "/assets", Asset, json=body, idempotency_key=idempotency_key)

    @operation("update_asset")
    async def update(self, asset_id: str, *, tags: list[str] | NotGiven = NOT_GIVEN,
                     criticality: Criticality | NotGiven = NOT_GIVEN, description: str | NotGiven = NOT_GIVEN,
                     owner_id: Optional[str] | NotGiven = NOT_GIVEN, status: str | NotGiven = NOT_GIVEN) -> Asset:
        """Change tags, criticality, description, owner (None clears it) or status (`active`/`inactive`)."""
        body = update_body(tags=tags, criticality=criticality, description=description, owner_id=owner_id,
                           status=status)
        return await self._send("PATCH", _path(asset_id), Asset, json=body)

    @operation("delete_asset")
    async def delete(self, asset_id: str, *, cascade: bool = False) -> None:
        """Delete an asset; dependents need `cascade=True`."""
        await self._send("DELETE", _path(asset_id), None, params=query(cascade=cascade) if cascade else None)

    @operation("list_asset_services")
    def list_services(self, asset_id: str, *, port: PortList | NotGiven = NOT_GIVEN,
                      protocol: StrList | NotGiven = NOT_GIVEN, service: StrList | NotGiven = NOT_GIVEN,
                      product: str | NotGiven = NOT_GIVEN, tls: bool | NotGiven = NOT_GIVEN,
                      state: StrList | NotGiven = NOT_GIVEN, sort_by: ServiceSort | NotGiven = NOT_GIVEN,
                      sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
                      per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[Service]:
        """The services (open ports) observed on one asset, lazily across pages (`async for`)."""
        params = filter_params(port=port, protocol=protocol, service=service, product=product, tls=tls, state=state,
                               sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page(f"{_path(asset_id)}/services", Service, params, page)

    @operation("import_asset_services")
    async def import_nmap(self, asset_id: str, file: XmlSource, *,
                          idempotency_key: Optional[str] = None) -> ServiceImport:
        """Record nmap XML output as a completed port scan of the asset (see the sync client)."""
        data = read_xml(file)
        return await self._send("POST", f"{_path(asset_id)}/services/import", ServiceImport, content=data,
                                headers={"Content-Type": "application/xml"}, idempotency_key=idempotency_key)
