"""`s4e scans` against the real app in-process: run (with --wait), list, get, status, cancel, rerun, tasks,
output, wait. Tasks do not run here: a scan ends by cancelling it or by updating its row from a thread."""

from __future__ import annotations

import json
import threading
import time


def _asset(s4e_json, name: str = "example.com") -> str:
    asset = s4e_json("assets", "create", name, "--type", "domain")
    s4e_json("assets", "override-verification", asset["id"], "--reason", "vouched for by the CLI tests")
    return asset["id"]


def _end_scan_later(delay: float, **values) -> threading.Thread:
    """Ends the next scan created after this call (as the execution runtime would), `delay` seconds after it
    appears."""
    from s4e_platform.db.session import unit_of_work
    from s4e_platform.scan.models import Scan
    from sqlalchemy import select
    from tests.scan.conftest import set_scan

    def queued() -> set[str]:
        with unit_of_work(readonly=True) as s:
            return set(s.execute(select(Scan.id).where(Scan.status == "queued")).scalars())

    before = queued()

    def run() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            fresh = queued() - before
            if fresh:
                time.sleep(delay)
                set_scan(fresh.pop(), **values)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_run_list_get_status_tasks(s4e, s4e_json):
    asset_id = _asset(s4e_json)
    table = s4e("scans", "run", asset_id, "--type", "custom", "--scanner", "tls", "--scanner", "http_headers",
                "--option", "tls_ports=443,8443", "--option", "timeout=600", "--priority", "high")
    assert table.exit_code == 0, table.output
    assert "queued" in table.stdout and "tls, http_headers" in table.stdout
    scan = s4e_json("scans", "list")[0]
    assert scan["options"] == {"tls_ports": "443,8443", "timeout": 600} and scan["priority"] == "high"
    quick_id = s4e("scans", "run", asset_id, "--type", "quick", "-q").stdout.strip()
    assert quick_id.startswith("scn_") and quick_id != scan["id"]
    assert s4e("scans", "list", "--type", "quick", "-q").stdout.split() == [quick_id]
    listed = s4e("scans", "list", "--sort-by", "priority", "--sort-order", "asc")
    assert listed.exit_code == 0 and "example.com" in listed.stdout and "2 total" in listed.stdout
    shown = s4e_json("scans", "get", scan["id"])
    assert shown["scanners"] == ["tls", "http_headers"] and shown["asset"]["name"] == "example.com"
    assert s4e("scans", "status", scan["id"], "-q").stdout.strip() == "queued"
    status = s4e_json("scans", "status", scan["id"])
    assert status["task_summary"]["total"] == 2 and status["progress"] == 0
    tasks = s4e_json("scans", "tasks", scan["id"], "--sort-by", "scanner", "--sort-order", "asc")
    assert [t["scanner"] for t in tasks] == ["http_headers", "tls"]
    assert "example.com" in s4e("scans", "tasks", scan["id"]).stdout
    assert s4e("scans", "get", "scn_01hv8x5m3t9q4zc2n7k1r6pbde").exit_code == 3


def test_run_refusals_exit_non_zero(s4e, s4e_json):
    asset_id = _asset(s4e_json)
    bad = s4e("scans", "run", asset_id, "--type", "custom", "--scanner", "nuclei")
    assert bad.exit_code == 1 and "$.scanners[0]" in bad.stderr
    assert s4e("scans", "run", asset_id, "--option", "no-equals-sign").exit_code == 2
    pending = s4e_json("assets", "create", "pending.example.org", "--type", "domain")
    refused = s4e("scans", "run", pending["id"], "--type", "ssl", "--json")
    assert refused.exit_code == 1 and json.loads(refused.stderr)["error"]["code"] == "asset_not_verified"
    denied = s4e("scans", "run", asset_id, key="viewer")
    assert denied.exit_code == 1 and "insufficient_scope" in denied.stderr


def test_run_wait_follows_the_scan_to_its_end(s4e, s4e_json):
    asset_id = _asset(s4e_json)
    _end_scan_later(0.3, status="completed", progress=100, current_phase=None)
    done = s4e("scans", "run", asset_id, "--type", "ssl", "--wait", "--poll-interval", "0.05", "--timeout", "20")
    assert done.exit_code == 0, done.output
    assert "completed" in done.stdout and "100%" in done.stderr  # the progress bar, drawn on stderr

    _end_scan_later(0.3, status="failed", progress=50, error={"code": "scan_timeout", "message": "took too long"})
    failed = s4e("scans", "run", asset_id, "--type", "ssl", "--wait", "--poll-interval", "0.05", "--json",
                 "--timeout", "20")
    assert failed.exit_code == 1 and json.loads(failed.stdout)["status"] == "failed"
    assert "took too long" in failed.stderr

    slow = s4e("scans", "run", asset_id, "--type", "ssl", "--wait", "--poll-interval", "0.05", "--timeout", "0.2")
    assert slow.exit_code == 1 and "wait_timeout" in slow.stderr


def test_cancel_rerun_wait_and_output(s4e, s4e_json):
    asset_id = _asset(s4e_json)
    scan_id = s4e("scans", "run", asset_id, "--type", "ssl", "-q").stdout.strip()
    cancelled = s4e_json("scans", "cancel", scan_id)
    assert cancelled["status"] == "cancelled" and cancelled["task_summary"]["cancelled"] == 1
    again = s4e("scans", "cancel", scan_id)
    assert again.exit_code == 1 and "invalid_state" in again.stderr
    waited = s4e("scans", "wait", scan_id, "--poll-interval", "0.05")
    assert waited.exit_code == 1 and "cancelled" in waited.stderr

    rerun = s4e_json("scans", "rerun", scan_id)
    assert rerun["rerun_of"] == scan_id and rerun["triggered_by"] == {"type": "rerun", "id": scan_id}
    from s4e_platform.scan.models import ScanTask
    from tests.scan.conftest import set_tasks

    set_tasks(rerun["id"], ScanTask.scanner == "tls", raw_output='443/tcp tls 1.0 accepted\n{"template-id":"t1"}\n')
    human = s4e("scans", "output", rerun["id"])
    assert human.exit_code == 0
    assert human.stdout.splitlines()[0] == "[tls example.com] 443/tcp tls 1.0 accepted"
    assert '"template-id": "t1"' in human.stdout.splitlines()[1]
    assert s4e("scans", "output", rerun["id"], "-q").stdout.splitlines()[0] == "443/tcp tls 1.0 accepted"
    lines = [json.loads(line) for line in s4e("scans", "output", rerun["id"], "--json").stdout.splitlines()]
    assert [line.get("output") for line in lines] == ["443/tcp tls 1.0 accepted", None]
    assert lines[1]["template-id"] == "t1" and lines[1]["scanner"] == "tls"
    from tests.scan.conftest import set_scan

    threading.Timer(0.2, set_scan, args=(rerun["id"],), kwargs={"status": "completed", "progress": 100}).start()
    assert s4e("scans", "wait", rerun["id"], "--poll-interval", "0.05", "--timeout", "20", "-q").exit_code == 0
