"""Bulk asset changes and CSV import (api.md 2.3). Included before the asset router so `/assets/bulk` and
`/assets/import` never reach the `/assets/{asset_id}` routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from s4e_platform.asset import bulk, csv_import
from s4e_platform.asset.bulk_schemas import BulkRequest, BulkResult, ImportResult
from s4e_platform.asset.dependencies import WriteAssets
from s4e_platform.auth.dependencies import DbSession, apply_rate_limit
from s4e_platform.errors import UnsupportedMediaType
from s4e_platform.kit.router import api_router, conflict
from s4e_platform.kit.schemas import Envelope, ErrorEnvelope
from s4e_platform.kit.uploads import upload_body

router = api_router(tags=["assets"])

_RACE = conflict("A concurrent request created some of the same assets; retrying reports them as exists")
BULK_RATE = (5, 0)  # api.md 1.9: 5/min, no burst
_CSV_BODY = {"requestBody": {"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "UTF-8 CSV file"}}}}}}}


def _bulk_limit(request: Request, principal: WriteAssets) -> None:
    apply_rate_limit(request, principal.rate_key() + ":bulk", BULK_RATE)


async def csv_upload(request: Request) -> bytes:
    """The CSV bytes from a `text/csv` body or the `file` field of a multipart form (size capped upstream)."""
    mime, _, params = request.headers.get("content-type", "").partition(";")
    if mime.strip().lower() == "text/csv":
        charset = next((p.split("=", 1)[1].strip().strip('"').lower() for p in params.split(";")
                        if p.strip().lower().startswith("charset=")), "utf-8")
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType("CSV must be UTF-8 (charset=utf-8)")
    return await upload_body(request, media_types=("text/csv",), what="CSV",
                             refusal="Send the CSV as text/csv or as the `file` field of multipart/form-data")


@router.post("/assets/bulk", response_model=Envelope[BulkResult], operation_id="bulk_assets",
             dependencies=[Depends(_bulk_limit)], responses=_RACE)
def bulk_assets(body: BulkRequest, principal: WriteAssets, session: DbSession):
    """Create, update or delete up to 10,000 assets in one request."""
    return {"data": bulk.run(session, principal, body), "meta": {}}


@router.post("/assets/import", response_model=Envelope[ImportResult], operation_id="import_assets",
             openapi_extra=_CSV_BODY, dependencies=[Depends(_bulk_limit)],
             responses={**_RACE, 415: {"model": ErrorEnvelope,
                                       "description": "Body is neither text/csv nor multipart"}})
def import_assets(
    principal: WriteAssets,
    session: DbSession,
    data: Annotated[bytes, Depends(csv_upload)],
    dry_run: Annotated[bool, Query(description="Validate and report; write nothing")] = False,
    partial: Annotated[bool, Query(description="Import the valid rows even if others fail")] = False,
):
    """Import assets from a CSV file (up to 10,000 rows)."""
    return {"data": csv_import.run(session, principal, data, dry_run=dry_run, partial=partial), "meta": {}}
