"""`s4e assets bulk create|update|delete FILE`: up to 10,000 asset changes in one request."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

import json
import sys
from enum import Enum
from typing import Annotated, Any

import typer

from s4e._operations import operation
from s4e.cli.config import client
from s4e.cli.output import JsonOption, Output, QuietOption, YesOption, confirm
from s4e.models.asset import AssetBulkUpdate, AssetCreate, BulkResult

MAX_FILE_BYTES = 10 * 1024 * 1024
"""The server's body limit for /assets/bulk; a larger file could never be accepted."""


class BulkOperation(str, Enum):
    create = "create"
    update = "update"
    delete = "delete"


def read_items(source: str) -> list[Any]:
    """The JSON array in FILE (`-` reads standard input)."""
    if source == "-":
        raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    else:
        with open(source, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError("the file exceeds the 10 MiB bulk limit; split it or use `s4e assets import`")
    try:
        items = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{source} is not UTF-8 JSON: {exc}") from None
    if not isinstance(items, list) or not items:
        raise ValueError(f"{source} must hold a non-empty JSON array")
    return items


def _delete_id(item: Any, index: int) -> str:
    if isinstance(item, dict) and set(item) == {"id"}:
        item = item["id"]
    if not isinstance(item, str):
        raise ValueError(f"item {index}: delete takes asset ids (\"ast_...\" or {{\"id\": \"ast_...\"}})")
    return item


def _object(item: Any, index: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError(f"item {index} must be a JSON object")
    return item


def send(change: BulkOperation, items: list[Any], partial: bool, cascade: bool) -> BulkResult:
    with client() as c:
        if change is BulkOperation.create:
            return c.assets.bulk_create([AssetCreate(**_object(i, n)) for n, i in enumerate(items)],
                                        partial=partial)
        if change is BulkOperation.update:
            return c.assets.bulk_update([AssetBulkUpdate(**_object(i, n)) for n, i in enumerate(items)],
                                        partial=partial)
        return c.assets.bulk_delete([_delete_id(i, n) for n, i in enumerate(items)], partial=partial,
                                    cascade=cascade)


@operation("bulk_assets")
def bulk_assets(
    change: Annotated[BulkOperation, typer.Argument(metavar="OPERATION", help="create, update or delete.")],
    file: Annotated[str, typer.Argument(help="JSON array: asset objects (create), objects with `id` and the "
                                             "fields to change (update), or asset ids (delete); - for stdin.")],
    partial: Annotated[bool, typer.Option("--partial", help="Apply the valid items even if others fail.")] = False,
    cascade: Annotated[bool, typer.Option("--cascade", help="delete: also children, services and findings.")]
    = False,
    yes: YesOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Create, update or delete up to 10,000 assets in one request (all-or-nothing unless --partial)."""
    items = read_items(file)
    if change is BulkOperation.delete:
        confirm(f"Delete {len(items)} assets{' and everything under them' if cascade else ''}?", yes)
    result = send(change, items, partial, cascade)
    out = Output(json_output, quiet)
    if out.json:
        return out._print_json(result.model_dump(mode="json"))
    if out.quiet:
        for row in result.results:
            if row.id and row.status != "error":
                typer.echo(row.id)
        return
    out.items(result.results, ["index", "status", "id", "error.code", "error.path", "error.message"],
              id_field="index")
    counts = result.counts
    out.err.print(f"created {counts.created}, updated {counts.updated}, deleted {counts.deleted}, "
                  f"existing {counts.exists}, errors {counts.error}")
