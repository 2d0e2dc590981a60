"""Benchmark: ingest 100,000 findings, then the same 100,000 again (dedup against existing rows).

    .venv/bin/python bench/finding_ingest.py             # SQLite in a temporary directory
    .venv/bin/python bench/finding_ingest.py --reset \
        --database-url postgresql+psycopg://postgres@127.0.0.1/s4e_bench_k

Each pass is one scan task's ingestion in one transaction (service layer, as a scan worker calls it). Prints
findings/s for both passes (target: second pass under 30 s on PostgreSQL) and checks the counts: 100,000 rows,
100,000 finding.new events, sighting_count 2 everywhere after the second pass.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

N = int(os.environ.get("BENCH_N", "100000"))


def configure(database_url: str | None) -> str:
    tmp = tempfile.mkdtemp(prefix="s4e-bench-")
    os.environ["S4E_DATA_DIR"] = tmp
    os.environ.setdefault("S4E_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
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


def make_asset() -> tuple[str, str]:
    from s4e_platform.asset.models import Asset
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.kit.ids import new_id
    from s4e_platform.workspace import service as workspace_service

    with unit_of_work() as s:
        ws = workspace_service.create_workspace(s, name="bench findings", creator_id=None)
        asset = Asset(id=new_id("ast"), workspace_id=ws.id, name=f"bench-{new_id('req')[-8:]}.example.com",
                      type="domain", verification_token="b" * 32)
        s.add(asset)
    return ws.id, asset.id


def candidates(pass_no: int) -> list:
    """N distinct findings across URL, service and DNS locations; evidence differs per pass (volatile)."""
    from s4e_platform.scanners.base import FindingCandidate, Location

    out = []
    for i in range(N):
        if i % 3 == 0:
            loc = Location(host="app.example.com", url=f"https://app.example.com/area{i}/page", method="GET")
        elif i % 3 == 1:
            loc = Location(host="app.example.com", ip="203.0.113.10", port=1 + i % 65535, protocol="tcp")
        else:
            loc = Location(host=f"n{i}.example.com", protocol="dns", parameter="TXT")
        out.append(FindingCandidate(
            check_id=f"bench.check.{i // 65535}", title=f"Bench finding {i}", severity="medium",
            description="A benchmark finding.", remediation="Nothing to do.", category="exposure", location=loc,
            evidence={"matched_at": f"pass {pass_no}", "response": f"body {pass_no} {i}"}))
    return out


def one_pass(workspace_id: str, asset_id: str, pass_no: int) -> tuple[dict, float]:
    from s4e_platform.asset.models import Asset
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.finding.ingest import ingest

    cands = candidates(pass_no)
    started = time.perf_counter()
    with unit_of_work() as s:
        asset = s.get(Asset, asset_id)
        counts = ingest(s, workspace_id=workspace_id, asset=asset, scanner="bench", scan_id=f"scn_{pass_no}",
                        task_id=f"tsk_{pass_no}", candidates=cands, actor=None)
    return counts, time.perf_counter() - started


def verify(workspace_id: str) -> None:
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.event.models import Event
    from s4e_platform.finding.models import Finding
    from sqlalchemy import func, select

    with unit_of_work(readonly=True) as s:
        rows = s.execute(select(func.count(), func.min(Finding.sighting_count), func.max(Finding.sighting_count))
                         .where(Finding.workspace_id == workspace_id)).one()
        new_events = s.execute(select(func.count()).select_from(Event).where(
            Event.workspace_id == workspace_id, Event.event == "finding.new")).scalar_one()
    assert tuple(rows) == (N, 2, 2), rows
    assert new_events == N, new_events


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the PostgreSQL schema first")
    args = parser.parse_args()
    url = configure(args.database_url)
    prepare_database(url, args.reset)
    workspace_id, asset_id = make_asset()
    dialect = url.split(":", 1)[0]
    for pass_no in (1, 2):
        counts, seconds = one_pass(workspace_id, asset_id, pass_no)
        print(f"{dialect} pass {pass_no}: {N} findings in {seconds:.1f} s = {N / seconds:,.0f} findings/s {counts}")
    verify(workspace_id)
    print("verified: no duplicates, sighting_count 2 on every finding, one finding.new event per finding")
    return 0


if __name__ == "__main__":
    sys.exit(main())
