"""Scanner catalog endpoints (api.md 2.4, scanning.md section 2).

The catalog is the in-process registry, identical for every workspace, so nothing here touches the database.
It is small (a dozen entries), so it is filtered, sorted and paged in memory with the usual list parameters
(api.md 1.8: `sort_order` defaults to desc, ties broken by id in the same direction).
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Path, Query

from s4e_platform.auth.dependencies import require
from s4e_platform.auth.principal import Principal
from s4e_platform.errors import BadRequest, NotFound
from s4e_platform.kit.pagination import PageParams, csv_values, page_params
from s4e_platform.kit.router import api_router
from s4e_platform.kit.schemas import Envelope, ListEnvelope
from s4e_platform.scanners import registry
from s4e_platform.scanners.schemas import CATEGORIES, TARGET_TYPES, ScannerRead

router = api_router(tags=["scanners"])

ReadScans = Annotated[Principal, Depends(require("read:scans"))]
ScannerId = Annotated[str, Path(description="Scanner id, e.g. port_scan")]
SORTS = ("id", "name", "category")


def _bool(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    if value not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false", code="invalid_parameter",
                         details=[{"path": f"query.{name}", "message": "must be true or false",
                                   "code": "invalid_parameter"}])
    return value == "true"


def _matches(entry: dict, categories: list[str] | None, active: bool | None, target_types: list[str] | None,
             search: str | None) -> bool:
    if categories is not None and entry["category"] not in categories:
        return False
    if active is not None and entry["active"] is not active:
        return False
    if target_types is not None and not set(target_types) & set(entry["target_types"]):
        return False
    if search:
        needle = search.casefold()
        return any(needle in str(entry[k]).casefold() for k in ("id", "name", "category"))
    return True


def _sorted(entries: list[dict], paging: PageParams) -> list[dict]:
    key = paging.sort_by or "id"
    if key not in SORTS:
        raise BadRequest(f"sort_by must be one of {', '.join(SORTS)}", code="invalid_parameter",
                         details=[{"path": "query.sort_by", "message": "unknown sort field",
                                   "code": "invalid_parameter"}])
    return sorted(entries, key=lambda e: (e[key].casefold(), e["id"]), reverse=paging.sort_order == "desc")


@router.get("/scanners", response_model=ListEnvelope[ScannerRead], operation_id="list_scanners")
def list_scanners(
    principal: ReadScans,
    paging: Annotated[PageParams, Depends(page_params)],
    category: Annotated[str | None, Query(max_length=256, description="Comma list: " + ", ".join(CATEGORIES))]
    = None,
    active: Annotated[str | None, Query(description="true: active scanners only; false: passive only")] = None,
    target_type: Annotated[str | None, Query(max_length=256, description="Comma list; any type matches: "
                                             + ", ".join(TARGET_TYPES))] = None,
    search: Annotated[str | None, Query(max_length=256, description="Substring of id, name or category")] = None,
):
    """List the scanner catalog with each scanner's option schema."""
    categories = csv_values(category, set(CATEGORIES), "category")
    types = csv_values(target_type, set(TARGET_TYPES), "target_type")
    wanted = _bool(active, "active")
    entries = _sorted([e for e in registry.catalog() if _matches(e, categories, wanted, types, search)], paging)
    total, size = len(entries), paging.per_page
    meta = {"total": total, "page": paging.page, "per_page": size,
            "total_pages": math.ceil(total / size) if total else 0}
    return {"data": entries[(paging.page - 1) * size: paging.page * size], "meta": meta}


@router.get("/scanners/{scanner_id}", response_model=Envelope[ScannerRead], operation_id="get_scanner")
def get_scanner(scanner_id: ScannerId, principal: ReadScans):
    """Get one scanner with its option schema."""
    scanner = registry.get(scanner_id)
    if scanner is None:
        raise NotFound("scanner not found")
    return {"data": scanner.describe(), "meta": {}}
