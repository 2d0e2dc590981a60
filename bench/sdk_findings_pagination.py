"""Benchmark: iterate 100,000 findings through the SDK's auto-pagination against a real uvicorn server.

    .venv/bin/python bench/sdk_findings_pagination.py            # SQLite in a temporary data directory
    .venv/bin/python bench/sdk_findings_pagination.py --reset \
        --database-url postgresql+psycopg://postgres@127.0.0.1/s4e_bench_a

The findings are seeded through the ingest service (10 assets x 10,000, one task each, as scans write them). A
uvicorn server (its own process, loopback) serves the API; this process runs
`for f in client.findings.list(per_page=100)` under tracemalloc and prints, at 10k, 50k and 100k items, the
throughput of the segment and overall, the latency of the segment's slowest page, and the traced memory of
this process (current and peak): flat figures mean pages are dropped once consumed.
The default list (every status but false_positive, newest first) walks the covering index
`ix_finding_ws_discovered_status (workspace_id, discovered_at, id, status)`, so deep OFFSET pages stay index-only.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import tracemalloc

N_ASSETS = int(os.environ.get("BENCH_ASSETS", "10"))
PER_ASSET = int(os.environ.get("BENCH_PER_ASSET", "10000"))
CHECKPOINTS = (10_000, 50_000, 100_000)

# Run as a script, bench/ is on sys.path: the set-up helpers are shared with the other benchmarks.
from finding_ingest import configure, prepare_database  # noqa: E402


def seed() -> tuple[str, str]:
    """(workspace id, enterprise-tier admin key) with N_ASSETS x PER_ASSET findings."""
    from s4e_platform.asset.models import Asset
    from s4e_platform.auth import service as auth_service
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.finding.ingest import ingest
    from s4e_platform.kit.ids import new_id
    from s4e_platform.scanners.base import FindingCandidate, Location
    from s4e_platform.workspace import service as workspace_service

    with unit_of_work() as s:
        user = auth_service.create_user(s, email=f"bench-{new_id('req')[-10:]}@example.com", password=None,
                                        name="bench")
        ws = workspace_service.create_workspace(s, name="bench pagination", creator_id=user.id)
        # Enterprise tier (10,000/min): the run measures pagination, not the default 100/min bucket.
        key, _ = auth_service.create_api_key(s, workspace_id=ws.id, user_id=user.id, name="bench",
                                             scopes=["admin"], tier="enterprise")
    started = time.perf_counter()
    for a in range(N_ASSETS):
        with unit_of_work() as s:
            asset = Asset(id=new_id("ast"), workspace_id=ws.id, name=f"host{a}.bench.example.com", type="domain",
                          verification_token="b" * 32, tags=[f"team-{a % 3}"])
            s.add(asset)
            s.flush()
            cands = [FindingCandidate(
                check_id=f"bench.check.{i % 50}", title=f"Bench finding {a}-{i}",
                severity=("critical", "high", "medium", "low", "info")[i % 5], description="A benchmark finding. " * 8,
                remediation="Upgrade.", category="exposure",
                location=Location(host=asset.name, ip="203.0.113.10", port=1 + i, protocol="tcp"),
                evidence={"response": "HTTP/1.1 200 OK\r\n" + "x" * 2000, "matcher_name": "bench"})
                for i in range(PER_ASSET)]
            ingest(s, workspace_id=ws.id, asset=asset, scanner="bench", scan_id=None, task_id=None,
                   candidates=cands)
    total = N_ASSETS * PER_ASSET
    print(f"seeded {total:,} findings (with 2 KiB evidence each) in {time.perf_counter() - started:.1f} s")
    return ws.id, key


def analyze(url: str) -> None:
    """PostgreSQL: planner statistics, as autovacuum would gather within a minute of the load."""
    if not url.startswith("postgresql"):
        return
    from s4e_platform.db.session import get_engine

    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("finding", "asset", "asset_tag"):
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "uvicorn", "s4e_platform.main:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(cmd, env=dict(os.environ))
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                sys.exit(f"the server exited with {proc.returncode}")
            time.sleep(0.2)
    proc.terminate()
    sys.exit("the server did not start within 60 s")


def iterate(port: int, key: str) -> None:
    from s4e import S4EClient

    tracemalloc.start()
    rows = []
    with S4EClient(api_key=key, base_url=f"http://127.0.0.1:{port}/api/v1", timeout=120) as client:
        pager = client.findings.list(per_page=100)
        count, seg_count, worst = 0, 0, 0.0
        started = seg_start = last = time.perf_counter()
        for page in pager.pages():
            now = time.perf_counter()
            worst = max(worst, now - last)
            count += len(page.data)
            for _ in page.data:
                pass  # items are consumed as a user's loop would; nothing is kept
            if count in CHECKPOINTS:
                elapsed = time.perf_counter()
                current, peak = tracemalloc.get_traced_memory()
                rows.append((count, (count - seg_count) / (elapsed - seg_start), count / (elapsed - started),
                             worst * 1000, current / 1e6, peak / 1e6))
                seg_start, seg_count, worst = elapsed, count, 0.0
            last = time.perf_counter()
    tracemalloc.stop()
    print(f"{'items':>8} {'segment items/s':>16} {'overall items/s':>16} {'slowest page ms':>16} "
          f"{'traced MB now':>14} {'traced MB peak':>15}")
    for n, seg, overall, slow, cur, peak in rows:
        print(f"{n:>8,} {seg:>16,.0f} {overall:>16,.0f} {slow:>16.1f} {cur:>14.2f} {peak:>15.2f}")
    if count != N_ASSETS * PER_ASSET:
        sys.exit(f"iterated {count} findings, expected {N_ASSETS * PER_ASSET}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--reset", action="store_true", help="PostgreSQL: drop and recreate the public schema")
    args = parser.parse_args()
    url = configure(args.database_url)
    prepare_database(url, args.reset)
    print(f"database: {url.split('@')[-1]}")
    _, key = seed()
    analyze(url)
    from s4e_platform.db.session import dispose_engine

    dispose_engine()
    port = free_port()
    server = start_server(port)
    try:
        iterate(port, key)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
