"""Streamed finding export (api.md 2.5): CSV (RFC 4180, header row, formula-injection safe) or one JSON array.

Rows are read in chunks (`yield_per`) inside the generator's own read-only unit of work, so memory stays flat
whatever the size of the selection, and the request's session is not held while the client downloads.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from s4e_platform.asset.models import Asset
from s4e_platform.db.session import unit_of_work
from s4e_platform.finding.models import Finding
from s4e_platform.finding.queries import FindingFilters, FindingRepository
from s4e_platform.kit.clock import isoformat, utcnow

CHUNK = 500
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection); a leading ' defuses it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_LOCATION = {"host", "ip", "port", "protocol", "url"}
_ASSET = {"asset_name": "name", "asset_type": "type", "asset_criticality": "criticality", "asset_tags": "tags"}
_COLUMNS = [c for c in Finding.__table__.columns if c.name != "evidence"]
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def filename(fmt: str) -> str:
    return f"findings-{utcnow().strftime('%Y%m%d-%H%M%S')}.{fmt}"


def _value(row: Any, asset: dict | None, field: str) -> Any:
    if field in _ASSET:
        return (asset or {}).get(_ASSET[field])
    if field in _LOCATION:
        return (row.location or {}).get(field)
    return getattr(row, field)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        text = isoformat(value) or ""
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, (list, tuple)):
        text = "; ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, separators=(",", ":"))
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _chunks(workspace_id: str, restriction: dict, filters: FindingFilters) -> Iterator[tuple[list, dict]]:
    """(rows, assets by id) per chunk, newest discovery first."""
    with unit_of_work(readonly=True) as session:
        repo = FindingRepository(session, workspace_id, restriction)
        stmt = select(*_COLUMNS).where(*repo.scope(filters)).order_by(
            Finding.discovered_at.desc(), Finding.id.desc()).execution_options(yield_per=CHUNK)
        for part in session.execute(stmt).partitions():
            ids = sorted({r.asset_id for r in part})
            assets = {a.id: {"name": a.name, "type": a.type, "criticality": a.criticality, "tags": list(a.tags or [])}
                      for a in session.execute(select(Asset.id, Asset.name, Asset.type, Asset.criticality,
                                                      Asset.tags).where(Asset.id.in_(ids)))}
            yield part, assets


def stream_csv(workspace_id: str, restriction: dict, filters: FindingFilters, fields: list[str]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180: CRLF, quotes doubled, minimal quoting
    writer.writerow(fields)
    yield buffer.getvalue().encode()
    for rows, assets in _chunks(workspace_id, restriction, filters):
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            writer.writerow([csv_cell(_value(row, assets.get(row.asset_id), f)) for f in fields])
        yield buffer.getvalue().encode()


def stream_json(workspace_id: str, restriction: dict, filters: FindingFilters, fields: list[str]) -> Iterator[bytes]:
    yield b"["
    first = True
    for rows, assets in _chunks(workspace_id, restriction, filters):
        parts = []
        for row in rows:
            item = {f: _json_value(_value(row, assets.get(row.asset_id), f)) for f in fields}
            parts.append(("" if first else ",") + json.dumps(item, ensure_ascii=False, separators=(",", ":")))
            first = False
        yield "".join(parts).encode()
    yield b"]"
