"""Shapes of POST /assets/bulk and POST /assets/import (api.md 2.3)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from s4e_platform.asset.schemas import AssetUpdate
from s4e_platform.kit.schemas import StrictModel

MAX_ITEMS = 10_000
BulkStatus = Literal["created", "updated", "deleted", "exists", "error"]
ImportStatus = Literal["created", "valid", "exists", "error"]


class BulkUpdateItem(AssetUpdate):
    """One item of a bulk update: the asset id plus the PATCH /assets/{id} fields."""

    id: str = Field(max_length=64, description="ast_ id of the asset to update")


class BulkDeleteItem(StrictModel):
    id: str = Field(max_length=64, description="ast_ id of the asset to delete")


class BulkRequest(StrictModel):
    operation: Literal["create", "update", "delete"] = Field(description="What to do with every item")
    # Items are validated one by one (not here) so that with `partial` one bad item fails alone and every
    # error is reported with its `$.items[i]` path: create items are AssetCreate, update items BulkUpdateItem,
    # delete items BulkDeleteItem.
    items: list[dict[str, Any]] = Field(
        min_length=1, max_length=MAX_ITEMS,
        description="1-10,000 objects: create -> {name, type, criticality?, tags?, description?, owner_id?, "
                    "parent_id?}; update -> {id, tags?, criticality?, description?, owner_id?, status?}; "
                    "delete -> {id}")
    partial: bool = Field(False, description="Apply the valid items even if others fail (default all-or-nothing)")
    cascade: bool = Field(False, description="delete: also delete children and their data")


class ItemError(BaseModel):
    code: str
    message: str
    path: str = Field(description="JSONPath of the offending field, e.g. $.items[3].name")


class BulkItemResult(BaseModel):
    index: int
    status: BulkStatus
    id: str | None = None
    error: ItemError | None = None


class BulkCounts(BaseModel):
    created: int = 0
    updated: int = 0
    deleted: int = 0
    exists: int = 0
    error: int = 0


class BulkResult(BaseModel):
    results: list[BulkItemResult]
    counts: BulkCounts


class RowError(BaseModel):
    code: str
    message: str
    column: str | None = Field(None, description="CSV column at fault, when one is")


class ImportRowResult(BaseModel):
    line: int = Field(description="Physical line where the row starts (line 1 is the header)")
    status: ImportStatus = Field(description="valid = would be created (dry run)")
    id: str | None = None
    error: RowError | None = None


class ImportCounts(BaseModel):
    created: int = 0
    valid: int = 0
    exists: int = 0
    error: int = 0


class ImportResult(BaseModel):
    dry_run: bool
    results: list[ImportRowResult]
    counts: ImportCounts
