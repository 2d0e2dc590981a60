"""Benchmark: release 10,000 queued scan tasks through the release step and hand them off.

    .venv/bin/python bench/dispatch_overhead.py                      # SQLite, embedded executor hand-off
    .venv/bin/python bench/dispatch_overhead.py --reset \
        --database-url postgresql+psycopg://postgres@127.0.0.1/s4e_bench_c2 \
        --broker-url amqp://guest:guest@127.0.0.1:5672//             # PostgreSQL: executor, then Celery publish

The tasks (10 scans of 1,000 tasks, one workspace, one asset each: inside the 10-running-scans limit) are bulk
inserted; `release_once(500)` runs until nothing is left, each call one transaction (claim, mark dispatched,
commit) followed by the hand-off: to an in-process executor whose runner does nothing (the hand-off cost, not scan
work), or published as `scan.run_task` messages to RabbitMQ (queues with a unique prefix, deleted afterwards).
Prints tasks/s per mode (target >= 1,000/s) and checks every task was dispatched exactly once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid

N = int(os.environ.get("BENCH_N", "10000"))
SCANS = 10

# Run as a script, bench/ is on sys.path: the set-up helpers are shared with the other benchmarks.
from finding_ingest import configure, prepare_database  # noqa: E402


def make_tasks(n: int) -> list[str]:
    """One workspace, SCANS assets with one queued scan each, n tasks spread over them (bulk INSERT)."""
    from s4e_platform.asset.models import Asset
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.kit.clock import utcnow
    from s4e_platform.kit.ids import new_id
    from s4e_platform.scan.models import Scan, ScanTask
    from s4e_platform.workspace import service as workspace_service

    now = utcnow()
    with unit_of_work() as s:
        ws = workspace_service.create_workspace(s, name=f"bench dispatch {new_id('req')[-6:]}", creator_id=None)
        scan_ids = []
        for i in range(SCANS):
            asset = Asset(id=new_id("ast"), workspace_id=ws.id, name=f"bench-{i}-{new_id('req')[-8:]}.example.com",
                          type="domain", verification_token="b" * 32, verified=True)
            s.add(asset)
            s.flush()
            scan = Scan(id=new_id("scn"), workspace_id=ws.id, asset_id=asset.id, scan_type="custom",
                        scanners=["tls"], options={}, priority="normal", status="queued", task_summary={},
                        finding_counts={}, triggered_by={"type": "api_key", "id": None}, agent_ids=[],
                        post_actions=[])
            s.add(scan)
            s.flush()
            scan_ids.append((scan.id, asset.id, asset.name))
        rows = []
        for i in range(n):
            scan_id, asset_id, name = scan_ids[i % SCANS]
            rows.append({"id": new_id("tsk"), "workspace_id": ws.id, "scan_id": scan_id, "asset_id": asset_id,
                         "scanner": "tls", "target": {"type": "domain", "value": name}, "route": "platform",
                         "queue": "scans", "priority_rank": 1, "weight": 1.0, "status": "queued", "attempts": 0,
                         "max_attempts": 3, "progress": 0.0, "coverage": {}, "stats": {}, "finding_counts": {},
                         "raw_output": "", "created_at": now})
        s.execute(ScanTask.__table__.insert(), rows)
    return [r["id"] for r in rows]


def drain(sink) -> tuple[int, float, float]:
    """Release everything; returns (tasks, seconds in all, seconds of them in the hand-off)."""
    from s4e_platform.worker import release

    handoff = [0.0]

    def timed(released) -> None:
        t = time.perf_counter()
        sink(released)
        handoff[0] += time.perf_counter() - t

    started = time.perf_counter()
    total = 0
    while True:
        released = release.release_once(release.BATCH, timed)
        if released == 0:
            break
        total += released
    return total, time.perf_counter() - started, handoff[0]


def check_dispatched(task_ids: list[str]) -> int:
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.scan.models import ScanTask
    from sqlalchemy import func, select

    with unit_of_work(readonly=True) as s:
        return s.execute(select(func.count()).select_from(ScanTask).where(
            ScanTask.id.in_(task_ids), ScanTask.status == "dispatched")).scalar_one()


def bench_executor(n: int) -> None:
    from s4e_platform.worker.executor import ThreadExecutor

    task_ids = make_tasks(n)
    seen: list[str] = []
    pool = ThreadExecutor(4, runner=lambda task_id, *, worker_id: seen.append(task_id) or "noop", backlog=n).start()
    total, elapsed, handoff = drain(pool.submit)
    pool.wait_idle(60)
    pool.shutdown()
    dispatched = check_dispatched(task_ids)
    assert total == n and dispatched == n and sorted(seen) == sorted(task_ids), (total, dispatched, len(seen))
    print(f"executor hand-off: {n} tasks in {elapsed:.2f} s = {n / elapsed:,.0f} tasks/s "
          f"(hand-off {handoff:.2f} s)")


def bench_celery(n: int, broker_url: str) -> None:
    from s4e_platform.config import get_settings
    from s4e_platform.worker import celery_app, tasks

    settings = get_settings()
    settings.broker_url, settings.queue_prefix = broker_url, f"bench{uuid.uuid4().hex[:8]}."
    task_ids = make_tasks(n)
    try:
        celery_app.get_app()  # connection and queue declarations before the clock starts
        total, elapsed, handoff = drain(tasks.publish)
        queued, deadline = 0, time.monotonic() + 10
        while queued < n and time.monotonic() < deadline:  # the broker routes the last messages asynchronously
            with celery_app.get_app().connection_for_write() as conn:
                queued = conn.default_channel.queue_declare(celery_app.queue_name("scans"),
                                                            passive=True).message_count
            time.sleep(0.2)
        dispatched = check_dispatched(task_ids)
        assert total == n and dispatched == n and queued == n, (total, dispatched, queued)
        print(f"celery publish (RabbitMQ): {n} tasks in {elapsed:.2f} s = {n / elapsed:,.0f} tasks/s "
              f"(publishing {handoff:.2f} s)")
    finally:
        with celery_app.get_app().connection_for_write() as conn:
            for queue in celery_app.queues():
                queue.bind(conn.default_channel).delete()
        settings.broker_url = None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--broker-url", help="also publish to RabbitMQ through Celery")
    parser.add_argument("--reset", action="store_true", help="PostgreSQL: drop and recreate the public schema")
    args = parser.parse_args()
    url = configure(args.database_url)
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "server", "src"))
    prepare_database(url, args.reset)
    print(f"database: {url.split('://')[0]}, {N} tasks in {SCANS} scans")
    bench_executor(N)
    if args.broker_url:
        bench_celery(N, args.broker_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
