"""Page/per_page lists with whitelisted sorting and stable tie-breaking by id (api.md 1.8)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from s4e_platform.errors import BadRequest


@dataclass
class PageParams:
    page: int
    per_page: int
    sort_by: str | None
    sort_order: str


def page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1")] = 1,
    per_page: Annotated[int, Query(ge=1, le=100, description="Items per page (max 100)")] = 20,
    sort_by: Annotated[str | None, Query(max_length=64, description="Sort field")] = None,
    sort_order: Annotated[Literal["asc", "desc"], Query(description="Sort direction")] = "desc",
) -> PageParams:
    return PageParams(page, per_page, sort_by, sort_order)


def order(stmt: Select, params: PageParams, columns: dict, default: str, id_col) -> Select:
    key = params.sort_by or default
    if key not in columns:
        raise BadRequest(f"sort_by must be one of {', '.join(sorted(columns))}", code="invalid_parameter",
                         details=[{"path": "query.sort_by", "message": "unknown sort field",
                                   "code": "invalid_parameter"}])
    col = columns[key]
    if params.sort_order == "asc":
        return stmt.order_by(col.asc(), id_col.asc())
    return stmt.order_by(col.desc(), id_col.desc())


def paginate(session: Session, stmt: Select, params: PageParams, count: Select | None = None) -> tuple[list, dict]:
    """Run `stmt` (already filtered and ordered) for one page; meta per api.md. `count` is an equivalent
    statement returning the total when the page's shape is slow to count (e.g. a semi-join that suits a page of
    the newest rows but not a full count)."""
    if count is None:
        count = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = session.execute(count).scalar_one()
    rows = session.execute(stmt.limit(params.per_page).offset((params.page - 1) * params.per_page)).scalars().all()
    meta = {"total": total, "page": params.page, "per_page": params.per_page,
            "total_pages": math.ceil(total / params.per_page) if total else 0}
    return list(rows), meta


def csv_values(value: str | None, allowed: set[str] | None = None, name: str = "value") -> list[str] | None:
    """Comma list query values, validated against `allowed`."""
    if value is None:
        return None
    items = [v.strip().lower() for v in value.split(",") if v.strip()]
    if allowed is not None:
        bad = [v for v in items if v not in allowed]
        if bad:
            raise BadRequest(f"{name} must be among {', '.join(sorted(allowed))}", code="invalid_parameter",
                             details=[{"path": f"query.{name}", "message": f"unknown value {bad[0]!r}",
                                       "code": "invalid_parameter"}])
    return items


def time_range(stmt: Select, col, start: datetime | None, end: datetime | None) -> Select:
    if start is not None:
        stmt = stmt.where(col >= start)
    if end is not None:
        stmt = stmt.where(col < end)
    return stmt
