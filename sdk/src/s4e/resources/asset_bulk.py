"""Bulk asset changes, the chunked upload helper and CSV import (api.md 2.3), mixed into `client.assets`."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import IO, Any, Optional, Union

from s4e._operations import operation
from s4e._types import query
from s4e.models.asset import AssetBulkUpdate, AssetCreate, BulkCounts, BulkResult, ImportResult

MAX_BULK_ITEMS = 10_000
MAX_CSV_BYTES = 20 * 1024 * 1024
UPLOAD_CHUNK = 1_000
_UPLOAD_PIECE = 64 * 1024
_ITEM_PATH = re.compile(r"^\$\.items\[(\d+)\]")

CsvSource = Union[str, "os.PathLike[str]", bytes, IO[bytes]]
Progress = Callable[[int, int], None]
"""Called as `progress(done, total)`: bytes sent (import) or items processed (upload)."""


def bulk_body(operation: str, items: Sequence[Any], *, partial: bool, cascade: bool = False) -> dict[str, Any]:
    if not items:
        raise ValueError("bulk needs at least one item")
    if len(items) > MAX_BULK_ITEMS:
        raise ValueError(f"bulk takes at most {MAX_BULK_ITEMS} items per request; use upload() for more")
    body: dict[str, Any] = {"operation": operation, "items": [_item(operation, i) for i in items],
                            "partial": partial}
    if cascade:
        body["cascade"] = True
    return body


def _item(operation: str, item: Any) -> dict[str, Any]:
    if operation == "delete":
        if not isinstance(item, str):
            raise TypeError("bulk_delete takes asset ids (strings)")
        return {"id": item}
    expected = AssetCreate if operation == "create" else AssetBulkUpdate
    if not isinstance(item, expected):
        raise TypeError(f"bulk {operation} items must be {expected.__name__} instances")
    return item.body()


def read_upload(source: CsvSource, *, what: str, method: str, limit: int = MAX_CSV_BYTES, advice: str = "") -> bytes:
    """The bytes of a path, bytes or binary file to upload, refusing more than the server's `limit`."""
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            data = fh.read(limit + 1)
    else:
        data = source.read(limit + 1)
        if not isinstance(data, bytes):
            raise TypeError(f"{method} needs a binary file (open it with 'rb')")
    if len(data) > limit:
        raise ValueError(f"the {what} exceeds the {limit // (1024 * 1024)} MiB import limit{advice}")
    return data


def read_csv(source: CsvSource) -> bytes:
    """The CSV bytes of a path, bytes or binary file, refusing more than the server's 20 MiB limit."""
    return read_upload(source, what="CSV", method="import_csv", advice="; split the file")


XmlSource = CsvSource  # a path, bytes or a binary file


def read_xml(source: XmlSource) -> bytes:
    """The bytes of an nmap XML path, bytes or binary file, refusing more than the server's 20 MiB limit."""
    return read_upload(source, what="nmap XML", method="import_nmap")


def csv_body(data: bytes, progress: Progress | None) -> Callable[[], Iterator[bytes]] | bytes:
    """A body factory reporting upload progress; called once per attempt so a retry re-sends everything."""
    if progress is None:
        return data

    def pieces() -> Iterator[bytes]:
        progress(0, len(data))
        for start in range(0, len(data), _UPLOAD_PIECE):
            piece = data[start:start + _UPLOAD_PIECE]
            yield piece
            progress(start + len(piece), len(data))

    return pieces


def async_csv_body(data: bytes, progress: Progress | None) -> Callable[[], AsyncIterator[bytes]] | bytes:
    if progress is None:
        return data

    async def pieces() -> AsyncIterator[bytes]:
        progress(0, len(data))
        for start in range(0, len(data), _UPLOAD_PIECE):
            piece = data[start:start + _UPLOAD_PIECE]
            yield piece
            progress(start + len(piece), len(data))

    return pieces


def csv_headers(data: bytes) -> dict[str, str]:
    return {"Content-Type": "text/csv; charset=utf-8", "Content-Length": str(len(data))}


def rebase(result: BulkResult, offset: int, into: BulkResult) -> None:
    """Append one chunk's results to `into` with indexes and error paths relative to the whole upload."""
    for item in result.results:
        item.index += offset
        if item.error is not None and item.error.path:
            item.error.path = _ITEM_PATH.sub(lambda m: f"$.items[{int(m.group(1)) + offset}]", item.error.path)
        into.results.append(item)
    for name in BulkCounts.model_fields:
        setattr(into.counts, name, getattr(into.counts, name) + getattr(result.counts, name))


def chunks(items: Iterable[AssetCreate], size: int) -> Iterator[list[AssetCreate]]:
    if not 1 <= size <= MAX_BULK_ITEMS:
        raise ValueError(f"chunk_size must be 1-{MAX_BULK_ITEMS}")
    batch: list[AssetCreate] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class SyncAssetBulk:
    """Bulk operations of `client.assets`."""

    _send: Callable[..., Any]

    @operation("bulk_assets")
    def bulk_create(self, items: Sequence[AssetCreate], *, partial: bool = False,
                    idempotency_key: Optional[str] = None) -> BulkResult:
        """Create up to 10,000 assets in one request. All-or-nothing (ValidationError listing every failing
        item) unless `partial=True`, which creates the valid ones and reports the rest per item."""
        return self._send("POST", "/assets/bulk", BulkResult, json=bulk_body("create", items, partial=partial),
                          idempotency_key=idempotency_key)

    @operation("bulk_assets")
    def bulk_update(self, items: Sequence[AssetBulkUpdate], *, partial: bool = False,
                    idempotency_key: Optional[str] = None) -> BulkResult:
        """Update up to 10,000 assets (each item: id + fields to change); all-or-nothing unless `partial`."""
        return self._send("POST", "/assets/bulk", BulkResult, json=bulk_body("update", items, partial=partial),
                          idempotency_key=idempotency_key)

    @operation("bulk_assets")
    def bulk_delete(self, asset_ids: Sequence[str], *, partial: bool = False, cascade: bool = False,
                    idempotency_key: Optional[str] = None) -> BulkResult:
        """Delete up to 10,000 assets by id; `cascade` also deletes their children and data."""
        body = bulk_body("delete", asset_ids, partial=partial, cascade=cascade)
        return self._send("POST", "/assets/bulk", BulkResult, json=body, idempotency_key=idempotency_key)

    @operation("bulk_assets")
    def upload(self, items: Iterable[AssetCreate], *, chunk_size: int = UPLOAD_CHUNK,
               progress: Progress | None = None) -> BulkResult:
        """Create any number of assets in chunks of `chunk_size` (partial mode: valid items are created, the
        others reported). Indexes in the result count from the start of `items`; re-running an interrupted
        upload is safe because existing assets come back as `exists`."""
        total = BulkResult(results=[], counts=BulkCounts())
        items = items if isinstance(items, Sequence) else [*items]
        done = 0
        for batch in chunks(items, chunk_size):
            rebase(self.bulk_create(batch, partial=True), done, total)
            done += len(batch)
            if progress is not None:
                progress(done, len(items))
        return total

    @operation("import_assets")
    def import_csv(self, file: CsvSource, *, dry_run: bool = False, partial: bool = False,
                   progress: Progress | None = None, idempotency_key: Optional[str] = None) -> ImportResult:
        """Import a CSV (header `name,type,tags,criticality,description,owner_email`, tags `;`-separated, up to
        10,000 rows, 20 MiB) from a path, bytes or binary file. Nothing is written if any row fails unless
        `partial=True`; `dry_run=True` only validates. `progress(sent, total)` follows the upload."""
        data = read_csv(file)
        return self._send("POST", "/assets/import", ImportResult, content=csv_body(data, progress),
                          headers=csv_headers(data), params=query(dry_run=dry_run or None, partial=partial or None),
                          idempotency_key=idempotency_key)


class AsyncAssetBulk:
    """Bulk operations of `async_client.assets`."""

    _send: Callable[..., Any]

    @operation("bulk_assets")
    async def bulk_create(self, items: Sequence[AssetCreate], *, partial: bool = False,
                          idempotency_key: Optional[str] = None) -> BulkResult:
        """Create up to 10,000 assets in one request; all-or-nothing unless `partial=True`."""
        return await self._send("POST", "/assets/bulk", BulkResult,
                                json=bulk_body("create", items, partial=partial), idempotency_key=idempotency_key)

    @operation("bulk_assets")
    async def bulk_update(self, items: Sequence[AssetBulkUpdate], *, partial: bool = False,
                          idempotency_key: Optional[str] = None) -> BulkResult:
        """Update up to 10,000 assets (each item: id + fields to change); all-or-nothing unless `partial`."""
        return await self._send("POST", "/assets/bulk", BulkResult,
                                json=bulk_body("update", items, partial=partial), idempotency_key=idempotency_key)

    @operation("bulk_assets")
    async def bulk_delete(self, asset_ids: Sequence[str], *, partial: bool = False, cascade: bool = False,
                          idempotency_key: Optional[str] = None) -> BulkResult:
        """Delete up to 10,000 assets by id; `cascade` also deletes their children and data."""
        body = bulk_body("delete", asset_ids, partial=partial, cascade=cascade)
        return await self._send("POST", "/assets/bulk", BulkResult, json=body, idempotency_key=idempotency_key)

    @operation("bulk_assets")
    async def upload(self, items: Iterable[AssetCreate], *, chunk_size: int = UPLOAD_CHUNK,
                     progress: Progress | None = None) -> BulkResult:
        """Create any number of assets in chunks (partial mode); indexes count from the start of `items`."""
        total = BulkResult(results=[], counts=BulkCounts())
        items = items if isinstance(items, Sequence) else [*items]
        done = 0
        for batch in chunks(items, chunk_size):
            rebase(await self.bulk_create(batch, partial=True), done, total)
            done += len(batch)
            if progress is not None:
                progress(done, len(items))
        return total

    @operation("import_assets")
    async def import_csv(self, file: CsvSource, *, dry_run: bool = False, partial: bool = False,
                         progress: Progress | None = None, idempotency_key: Optional[str] = None) -> ImportResult:
        """Import a CSV of assets (see the sync client for the format and semantics)."""
        data = read_csv(file)
        return await self._send("POST", "/assets/import", ImportResult, content=async_csv_body(data, progress),
                                headers=csv_headers(data),
                                params=query(dry_run=dry_run or None, partial=partial or None),
                                idempotency_key=idempotency_key)
