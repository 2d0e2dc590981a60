"""Benchmark: GET /api/v1/assets?per_page=100&<filter> with 100,000 assets in the workspace (TestClient).

    .venv/bin/python bench/asset_list.py             # SQLite in a temporary directory
    .venv/bin/python bench/asset_list.py --reset --database-url postgresql+psycopg://postgres@127.0.0.1/s4e_bench_b

The assets are loaded through POST /assets/bulk (10 x 10,000), then each filter is requested --requests times
(default 300) in a row; p50/p95/p99 latency per filter is printed (target: p99 < 50 ms).
"""

from __future__ import annotations

import argparse
import sys
import time

# Run as a script, bench/ is on sys.path: the set-up helpers are shared with the import benchmark.
from asset_bulk_import import configure, make_workspace, prepare_database

TOTAL = 100_000
BATCH = 10_000
FILTERS = [
    "",
    "type=domain",
    "criticality=critical",
    "tag=team-7",
    "type=ip&criticality=high",
    "source=bulk&sort_by=name&sort_order=asc",
    "network_zone=internal",
]


def item(i: int) -> dict:
    kind = ("domain", "domain", "domain", "domain", "ip", "ip", "ip", "url", "url", "network")[i % 10]
    name = {"domain": f"host-{i}.corp{i % 97}.example.com", "ip": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
            "url": f"https://app{i}.example.net/login", "network": f"fd{i >> 16:02x}:{i & 0xffff:x}::/32"}
    tags = [("env:prod", "env:staging", "env:dev")[i % 3], f"team-{i % 20}"]
    return {"name": name[kind], "type": kind, "tags": tags,
            "criticality": ("low", "medium", "high", "critical")[i % 4]}


def load(client, headers: dict, url: str) -> None:
    started = time.perf_counter()
    for start in range(0, TOTAL, BATCH):
        r = client.post("/api/v1/assets/bulk", headers=headers,
                        json={"operation": "create", "items": [item(i) for i in range(start, start + BATCH)]})
        if r.status_code != 200 or r.json()["data"]["counts"]["created"] != BATCH:
            sys.exit(f"loading failed: HTTP {r.status_code} {r.text[:300]}")
        if start == 0:
            analyze(url)  # a never-analysed table makes PostgreSQL check names by scanning; see analyze()
    print(f"loaded {TOTAL} assets in {time.perf_counter() - started:.1f} s")


def analyze(url: str) -> None:
    """PostgreSQL: refresh planner statistics and the visibility map, as autovacuum does within a minute of
    a bulk load (test servers often run with autovacuum off). Without statistics the planner takes the new
    table for empty and checks names through (workspace_id, type) instead of the unique index, so each
    10,000-asset batch gets slower. SQLite gets nothing: embedded mode runs no ANALYZE."""
    if not url.startswith("postgresql"):
        return
    from s4e_platform.db.session import get_engine

    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("asset", "asset_tag"):
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")


def percentile(sorted_ms: list[float], p: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(round(p / 100 * len(sorted_ms) + 0.5)) - 1)]


def measure(client, headers: dict, query: str, requests: int) -> tuple[float, float, float, int]:
    url = f"/api/v1/assets?per_page=100&{query}"
    for _ in range(5):  # warm caches and prepared statements
        client.get(url, headers=headers)
    times = []
    total = 0
    for _ in range(requests):
        started = time.perf_counter()
        r = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if r.status_code != 200:
            sys.exit(f"{url}: HTTP {r.status_code} {r.text[:300]}")
        total = r.json()["meta"]["total"]
    times.sort()
    return percentile(times, 50), percentile(times, 95), percentile(times, 99), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--reset", action="store_true", help="PostgreSQL: drop and recreate the public schema")
    parser.add_argument("--requests", type=int, default=300, help="requests per filter (default 300)")
    args = parser.parse_args()
    url = configure(args.database_url)
    prepare_database(url, args.reset)

    from fastapi.testclient import TestClient
    from s4e_platform.main import create_app

    print(f"database: {url.split('@')[-1]}")
    with TestClient(create_app()) as client:
        _, key = make_workspace("list")
        headers = {"Authorization": f"Bearer {key}"}
        load(client, headers, url)
        analyze(url)
        print(f"{'filter (per_page=100)':<42} {'matches':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for query in FILTERS:
            p50, p95, p99, total = measure(client, headers, query, args.requests)
            verdict = "" if p99 < 50 else "  SLOW (target p99 < 50 ms)"
            print(f"{query or '(no filter)':<42} {total:>8} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}{verdict}")
        print(f"({args.requests} sequential requests per filter)")


if __name__ == "__main__":
    main()
