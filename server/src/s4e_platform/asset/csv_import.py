"""CSV asset import (POST /assets/import): header `name,type,tags,criticality,description,owner_email`.

The file is decoded and parsed completely before anything is validated, so a malformed file fails as a whole;
rows then go through the bulk create path (the single-create rules). Errors name the physical line where the
row starts (line 1 is the header) and the column at fault.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from s4e_platform.asset import bulk
from s4e_platform.auth.models import User
from s4e_platform.auth.principal import Principal
from s4e_platform.errors import Unprocessable
from s4e_platform.workspace.models import Membership

COLUMNS = ("name", "type", "tags", "criticality", "description", "owner_email")
REQUIRED = ("name", "type")
MAX_ROWS = 10_000
# Field names of AssetCreate that a CSV column feeds under another name.
_FIELD_TO_COLUMN = {"owner_id": "owner_email", "parent_id": None}


@dataclass
class Row:
    line: int
    values: dict[str, str] | None
    errors: list[dict]


def file_error(line: int | None, message: str, code: str, column: str | None = None) -> Unprocessable:
    detail = {"path": f"line {line}" if line else "file", "line": line, "column": column, "message": message,
              "code": code}
    return Unprocessable(message, details=[detail])


def decode(data: bytes) -> str:
    """UTF-8 only (a BOM is fine): guessing another encoding would silently corrupt names."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise file_error(line, f"file is not valid UTF-8 (byte {exc.start}, line {line}); save it as UTF-8",
                         "invalid_encoding") from None


def _header(fields: list[str]) -> list[str]:
    header = [h.strip().lower() for h in fields]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise file_error(1, f"unknown column(s) {', '.join(repr(h) for h in unknown)}; allowed: "
                            f"{', '.join(COLUMNS)}", "unknown_column", unknown[0])
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise file_error(1, f"column(s) given twice: {', '.join(duplicated)}", "duplicate_column", duplicated[0])
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise file_error(1, f"required column(s) missing: {', '.join(missing)}", "missing_column", missing[0])
    return header


def parse(text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[Row] = []
    try:
        first = next(reader, None)
        if first is None or not any(f.strip() for f in first):
            raise file_error(1, "the file is empty; the first line must be the header "
                                f"{','.join(COLUMNS)}", "missing_header")
        header = _header(first)
        previous = reader.line_num
        for fields in reader:
            line, previous = previous + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue  # blank lines carry nothing
            if len(rows) == MAX_ROWS:
                raise file_error(line, f"more than {MAX_ROWS} data rows; split the file", "too_many_rows")
            if len(fields) != len(header):
                rows.append(Row(line, None, [{"column": None, "code": "wrong_field_count",
                                              "message": f"expected {len(header)} fields, found {len(fields)}"}]))
            else:
                rows.append(Row(line, dict(zip(header, fields, strict=True)), []))
    except csv.Error as exc:
        raise file_error(reader.line_num or 1, f"malformed CSV near line {reader.line_num}: {exc}",
                         "malformed_csv") from None
    return rows


def _owners(session: Session, workspace_id: str, rows: list[Row]) -> dict[str, str]:
    """Lower-cased email -> user id, for members of the workspace only."""
    emails = sorted({r.values["owner_email"].strip().lower() for r in rows
                     if r.values and (r.values.get("owner_email") or "").strip()})
    found: dict[str, str] = {}
    for i in range(0, len(emails), bulk.CHUNK):
        stmt = (select(func.lower(User.email), User.id).join(Membership, Membership.user_id == User.id)
                .where(Membership.workspace_id == workspace_id, func.lower(User.email).in_(emails[i:i + bulk.CHUNK])))
        found.update((email, user_id) for email, user_id in session.execute(stmt))
    return found


def _item(row: Row, owners: dict[str, str]) -> dict | None:
    v = row.values or {}
    item: dict = {"name": v["name"].strip(), "type": v["type"].strip().lower()}
    if (v.get("tags") or "").strip():
        item["tags"] = [t.strip() for t in v["tags"].split(";") if t.strip()]
    if (v.get("criticality") or "").strip():
        item["criticality"] = v["criticality"].strip().lower()
    if (v.get("description") or "").strip():
        item["description"] = v["description"].strip()
    email = (v.get("owner_email") or "").strip().lower()
    if email:
        if email not in owners:
            row.errors.append({"column": "owner_email", "code": "not_a_member",
                               "message": f"{email} is not a member of this workspace"})
            return None
        item["owner_id"] = owners[email]
    return item


def _column(path: str) -> str | None:
    """`$.tags[3]` -> `tags`; `$.owner_id` -> `owner_email`."""
    name = path[2:].split(".")[0].split("[")[0] if path.startswith("$.") else ""
    return _FIELD_TO_COLUMN.get(name, name) or None


def run(session: Session, principal: Principal, data: bytes, *, dry_run: bool, partial: bool) -> dict:
    rows = parse(decode(data))
    owners = _owners(session, principal.workspace_id, rows)
    items = []
    for index, row in enumerate(rows):
        item = _item(row, owners) if row.values is not None else None
        if item is not None:
            items.append((index, item))
    plan = bulk.plan_creates(session, principal, items, source="csv", prefix=lambda _: "$")
    by_index = {o.index: o for o in plan.outcomes}
    for index, row in enumerate(rows):
        out = by_index.get(index)
        if out is not None:
            row.errors.extend({"column": _column(e["path"]), "code": e["code"], "message": e["message"]}
                              for e in out.errors)
    failed = [r for r in rows if r.errors]
    if failed and not partial:
        raise Unprocessable(f"{len(failed)} of {len(rows)} rows have errors; nothing was imported",
                            details=[{"path": f"line {r.line}" + (f", {e['column']}" if e["column"] else ""),
                                      "line": r.line, **e} for r in failed for e in r.errors])
    if not dry_run:
        bulk.write_creates(session, principal, plan)
    return _report(rows, by_index, dry_run)


def _report(rows: list[Row], outcomes: dict[int, bulk.Outcome], dry_run: bool) -> dict:
    counts = {"created": 0, "valid": 0, "exists": 0, "error": 0}
    results = []
    for index, row in enumerate(rows):
        out = outcomes.get(index)
        if row.errors or out is None:
            status, asset_id = "error", None
        elif out.status == "created":
            status, asset_id = ("valid", None) if dry_run else ("created", out.id)
        else:
            status, asset_id = out.status, out.id
        counts[status] += 1
        error = row.errors[0] if row.errors else None
        results.append({"line": row.line, "status": status, "id": asset_id, "error": error})
    return {"dry_run": dry_run, "results": results, "counts": counts}
