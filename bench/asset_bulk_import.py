"""Benchmark: 10,000 assets through POST /assets/bulk and POST /assets/import, in-process (TestClient).

    .venv/bin/python bench/asset_bulk_import.py             # SQLite in a temporary directory
    .venv/bin/python bench/asset_bulk_import.py --reset \
        --database-url postgresql+psycopg://postgres@127.0.0.1/s4e_bench_b

Each run uses a fresh workspace and prints the wall time of each request (target: under 3 s) and checks that
every asset and exactly one asset.created event per asset were written.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

N = 10_000


def configure(database_url: str | None) -> str:
    tmp = tempfile.mkdtemp(prefix="s4e-bench-")
    os.environ["S4E_DATA_DIR"] = tmp
    os.environ.setdefault("S4E_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
    os.environ["S4E_RATE_LIMIT_ENABLED"] = "false"
    os.environ["S4E_LOG_LEVEL"] = "WARNING"
    os.environ["S4E_DATABASE_URL"] = database_url or f"sqlite:///{tmp}/bench.db"
    for var in ("S4E_REDIS_URL", "S4E_BROKER_URL"):
        os.environ.pop(var, None)
    return os.environ["S4E_DATABASE_URL"]


def prepare_database(url: str, reset: bool) -> None:
    from s4e_platform.db.migrate import upgrade
    from s4e_platform.db.session import dispose_engine, get_engine
    from sqlalchemy import text

    if reset and url.startswith("postgresql"):
        with get_engine().begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        dispose_engine()
    upgrade(url)


def make_workspace(label: str) -> tuple[str, str]:
    """(workspace id, all-scope API key) of a new workspace with one admin."""
    from s4e_platform.auth import service as auth_service
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.kit.ids import new_id
    from s4e_platform.workspace import service as workspace_service

    with unit_of_work() as s:
        user = auth_service.create_user(s, email=f"bench-{label}-{new_id('req')[-10:]}@example.com",
                                        password=None, name="bench")
        ws = workspace_service.create_workspace(s, name=f"bench {label}", creator_id=user.id)
        key, _ = auth_service.create_api_key(s, workspace_id=ws.id, user_id=user.id, name="bench",
                                             scopes=["admin"])
    return ws.id, key


def count_written(workspace_id: str) -> tuple[int, int]:
    from s4e_platform.asset.models import Asset
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.event.models import Event
    from sqlalchemy import func, select

    with unit_of_work(readonly=True) as s:
        assets = s.execute(select(func.count()).where(Asset.workspace_id == workspace_id)).scalar_one()
        created = s.execute(select(func.count()).where(Event.workspace_id == workspace_id,
                                                       Event.event == "asset.created")).scalar_one()
    return assets, created


def timed(client, label: str, workspace_id: str, **request) -> float:
    started, cpu = time.perf_counter(), time.process_time()
    r = client.post(**request)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if r.status_code != 200:
        sys.exit(f"{label}: HTTP {r.status_code}: {r.text[:500]}")
    counts = r.json()["data"]["counts"]
    assets, events = count_written(workspace_id)
    if counts["created"] != N or assets != N or events != N:
        sys.exit(f"{label}: expected {N} assets and events, got counts={counts} assets={assets} events={events}")
    verdict = "OK" if elapsed < 3.0 else "SLOW (target < 3 s)"
    # CPU time of this process (all threads) tells a loaded machine apart from a slow code path.
    print(f"{label:<32} wall {elapsed:5.2f} s  cpu {cpu:5.2f} s  {N / elapsed:6.0f} assets/s  {verdict}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--reset", action="store_true", help="PostgreSQL: drop and recreate the public schema")
    args = parser.parse_args()
    url = configure(args.database_url)
    prepare_database(url, args.reset)

    from fastapi.testclient import TestClient
    from s4e_platform.main import create_app

    print(f"database: {url.split('@')[-1]}  ({N} assets per request)")
    with TestClient(create_app()) as client:
        ws, key = make_workspace("bulk")
        headers = {"Authorization": f"Bearer {key}"}
        client.get("/api/v1/assets", headers=headers)  # warm-up: imports, first connection
        items = [{"name": f"host-{i}.bulk.example.com", "type": "domain", "tags": ["bench", f"g{i % 10}"],
                  "criticality": ("low", "medium", "high", "critical")[i % 4]} for i in range(N)]
        timed(client, "POST /assets/bulk (create)", ws, url="/api/v1/assets/bulk", headers=headers,
              json={"operation": "create", "items": items})

        ws, key = make_workspace("csv")
        lines = ["name,type,tags,criticality,description,owner_email"]
        lines += [f"10.{i // 65536}.{i // 256 % 256}.{i % 256},ip,bench;csv,high,row {i}," for i in range(N)]
        timed(client, "POST /assets/import (text/csv)", ws, url="/api/v1/assets/import",
              headers={"Authorization": f"Bearer {key}", "Content-Type": "text/csv"},
              content=("\n".join(lines) + "\n").encode())


if __name__ == "__main__":
    main()
