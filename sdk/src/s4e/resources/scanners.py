"""`client.scanners`: the scanner catalog (api.md 2.4, scanning.md section 2)."""

from __future__ import annotations

from s4e._operations import operation
from s4e._types import NOT_GIVEN, NotGiven, StrList, path_segment, query
from s4e.models.scanner import Scanner
from s4e.pagination import AsyncPage, SyncPage
from s4e.resources._base import AsyncResource, SyncResource


def _path(scanner_id: str) -> str:
    return f"/scanners/{path_segment(scanner_id, 'scanner_id')}"


class Scanners(SyncResource):
    """The scanner catalog."""

    @operation("list_scanners")
    def list(self, *, category: StrList | NotGiven = NOT_GIVEN, active: bool | NotGiven = NOT_GIVEN,
             target_type: StrList | NotGiven = NOT_GIVEN, search: str | NotGiven = NOT_GIVEN,
             sort_by: str | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> SyncPage[Scanner]:
        """Scanners with their option schemas, lazily across pages. `category` and `target_type` are comma lists
        (any value matches); `active=False` lists the passive scanners; `search` matches id, name or category.
        `sort_by`: `id` (default), `name` or `category`."""
        params = query(category=category, active=active, target_type=target_type, search=search, sort_by=sort_by,
                       sort_order=sort_order, per_page=per_page)
        return self._page("/scanners", Scanner, params, page)

    @operation("get_scanner")
    def get(self, scanner_id: str) -> Scanner:
        """One scanner by id (e.g. `port_scan`)."""
        return self._get(_path(scanner_id), Scanner)


class AsyncScanners(AsyncResource):
    """The scanner catalog (asyncio)."""

    @operation("list_scanners")
    def list(self, *, category: StrList | NotGiven = NOT_GIVEN, active: bool | NotGiven = NOT_GIVEN,
             target_type: StrList | NotGiven = NOT_GIVEN, search: str | NotGiven = NOT_GIVEN,
             sort_by: str | NotGiven = NOT_GIVEN, sort_order: str | NotGiven = NOT_GIVEN, page: int = 1,
             per_page: int | NotGiven = NOT_GIVEN) -> AsyncPage[Scanner]:
        """Scanners with their option schemas, lazily across pages. `category` and `target_type` are comma lists
        (any value matches); `active=False` lists the passive scanners; `search` matches id, name or category.
        `sort_by`: `id` (default), `name` or `category`."""
        params = query(category=category, active=active, target_type=target_type, search=search, sort_by=sort_by,
                       sort_order=sort_order, per_page=per_page)
        return self._page("/scanners", Scanner, params, page)

    @operation("get_scanner")
    async def get(self, scanner_id: str) -> Scanner:
        """One scanner by id (e.g. `port_scan`)."""
        return await self._get(_path(scanner_id), Scanner)
