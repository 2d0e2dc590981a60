"""Many-row inserts for bulk paths: COPY on PostgreSQL, executemany elsewhere.

An executemany of 10,000 rows through SQLAlchemy and psycopg spends most of its time adapting parameters and
pipelining one INSERT per row; COPY streams the same rows in a fraction of it. Rows are plain dicts keyed by
column name, every row with the same keys; values are what the column types would receive (JSON documents as
Python objects, timezone-aware datetimes), so both paths store the same thing.
"""

from __future__ import annotations

import json

from sqlalchemy import JSON, Table
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert `rows` into `table` inside the session's current transaction."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    # JSON documents travel as text; None becomes JSON null like SQLAlchemy's JSON type stores it.
    is_json = [isinstance(table.c[name].type, JSON) for name in columns]
    quote = session.get_bind().dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if j else row[c] for c, j in zip(columns, is_json, strict=True)])
