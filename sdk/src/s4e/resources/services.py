"""`client.services`: services (open ports) observed on the workspace's assets (api.md 2.3). One asset's services
are also `client.assets.list_services(asset_id)`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Union

from s4e._operations import operation
from s4e._types import NOT_GIVEN, NotGiven, StrList, path_segment, query
from s4e.models.service import Service, ServiceSort
from s4e.pagination import AsyncPage, SyncPage
from s4e.resources._base import AsyncResource, SyncResource

PortList = Union[int, str, Sequence[Union[int, str]]]
"""A port filter: `443`, `"80,443"` or `[80, 443]`."""


def _path(service_id: str) -> str:
    return f"/services/{path_segment(service_id, 'service_id')}"


def filter_params(**options: Any) -> dict[str, str]:
    """Query of the service filters shared by `services.list` and `assets.list_services`."""
    return query(**options)


class Services(SyncResource):
    """Services (open ports and what answers on them) observed by scans."""

    @operation("list_services")
    def list(self, *, asset_id: StrList | NotGiven = NOT_GIVEN, port: PortList | NotGiven = NOT_GIVEN,
             protocol: StrList | NotGiven = NOT_GIVEN, service: StrList | NotGiven = NOT_GIVEN,
             product: str | NotGiven = NOT_GIVEN, tls: bool | NotGiven = NOT_GIVEN,
             state: StrList | NotGiven = NOT_GIVEN, sort_by: ServiceSort | NotGiven = NOT_GIVEN,
             sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[Service]:
        """List services, lazily across pages. `asset_id`, `port`, `protocol` (`tcp`/`udp`), `service` (`http`,
        `ssh` ...) and `state` (`open`/`closed`/`filtered`) take one value or a list; `product` matches part of
        the product name; `sort_by`: `last_seen_at` (default) or `port`."""
        params = filter_params(asset_id=asset_id, port=port, protocol=protocol, service=service, product=product,
                               tls=tls, state=state, sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page("/services", Service, params, page)

    @operation("get_service")
    def get(self, service_id: str) -> Service:
        """Get one service with banner, CPEs and TLS summary."""
        return self._get(_path(service_id), Service)


class AsyncServices(AsyncResource):
    """Services (open ports and what answers on them) observed by scans (asyncio)."""

    @operation("list_services")
    def list(self, *, asset_id: StrList | NotGiven = NOT_GIVEN, port: PortList | NotGiven = NOT_GIVEN,
             protocol: StrList | NotGiven = NOT_GIVEN, service: StrList | NotGiven = NOT_GIVEN,
             product: str | NotGiven = NOT_GIVEN, tls: bool | NotGiven = NOT_GIVEN,
             state: StrList | NotGiven = NOT_GIVEN, sort_by: ServiceSort | NotGiven = NOT_GIVEN,
             sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[Service]:
        """List services, lazily across pages (`async for`). Filters as in the sync client."""
        params = filter_params(asset_id=asset_id, port=port, protocol=protocol, service=service, product=product,
                               tls=tls, state=state, sort_by=sort_by, sort_order=sort_order, per_page=per_page)
        return self._page("/services", Service, params, page)

    @operation("get_service")
    async def get(self, service_id: str) -> Service:
        """Get one service with banner, CPEs and TLS summary."""
        return await self._get(_path(service_id), Service)
