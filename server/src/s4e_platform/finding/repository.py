"""Dialect-specific bulk writes of ingestion (DESIGN: dialect SQL lives in repository.py).

Both paths run the same `INSERT ... ON CONFLICT (workspace_id, fingerprint) DO UPDATE ... RETURNING` built by the
caller. SQLite gets it as an executemany (SQLAlchemy batches rows into multi-row VALUES). On PostgreSQL the rows
are first streamed with COPY into a temporary table and upserted with one `INSERT ... SELECT`: psycopg parses
every placeholder of a multi-row VALUES statement in Python, which cost more than the database work itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Column, MetaData, Table, and_, select, text
from sqlalchemy.orm import Session

from s4e_platform.finding.models import Finding, FindingSighting

_JSON_COLUMNS = {c.name for c in Finding.__table__.columns if c.type.__class__.__name__ == "JSON"}
_STAGE = "finding_incoming"


def _staging_table() -> Table:
    return Table(_STAGE, MetaData(), *(Column(c.name, c.type) for c in Finding.__table__.columns))


def upsert_sqlite(session: Session, build: Callable, rows: list[dict], evidence: dict[str, dict], *,
                  scan_id: str | None, task_id: str | None, now: datetime, chunk: int = 400) -> list:
    """`build(None)` gives the VALUES-form upsert; sightings follow each chunk."""
    stmt = build(None)
    returned: list = []
    for start in range(0, len(rows), chunk):
        part = session.execute(stmt, rows[start:start + chunk]).all()
        session.execute(FindingSighting.__table__.insert(), [
            {"finding_id": r.id, "scan_id": scan_id, "task_id": task_id, "seen_at": now,
             "evidence": evidence[r.fingerprint]} for r in part])
        returned.extend(part)
    return returned


def upsert_postgresql(session: Session, build: Callable, rows: list[dict], *, scan_id: str | None,
                      task_id: str | None, now: datetime) -> list:
    """COPY into a transaction-local staging table, then one upsert and one sighting insert from it."""
    if not rows:
        return []
    names = list(rows[0])
    raw = session.connection().connection.driver_connection
    session.execute(text(f"CREATE TEMP TABLE {_STAGE} (LIKE finding) ON COMMIT DROP"))
    quoted = ", ".join(f'"{n}"' for n in names)  # `references` is a reserved word
    with raw.cursor() as cur, cur.copy(f"COPY {_STAGE} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[n]) if n in _JSON_COLUMNS and row[n] is not None else row[n]
                            for n in names])
    stage = _staging_table()
    returned = session.execute(build(select(*(stage.c[n] for n in names)))).all()
    finding, sighting = Finding.__table__, FindingSighting.__table__
    session.execute(sighting.insert().from_select(
        ["finding_id", "scan_id", "task_id", "seen_at", "evidence"],
        select(finding.c.id, _literal(scan_id), _literal(task_id), _literal_at(now), stage.c.evidence)
        .select_from(stage.join(finding, and_(finding.c.workspace_id == stage.c.workspace_id,
                                               finding.c.fingerprint == stage.c.fingerprint)))))
    session.execute(text(f"DROP TABLE {_STAGE}"))
    return returned


def _literal(value: str | None):
    from sqlalchemy import String, literal

    return literal(value, String())


def _literal_at(value: datetime):
    from sqlalchemy import literal

    from s4e_platform.db.base import UTCDateTime

    return literal(value, UTCDateTime())
